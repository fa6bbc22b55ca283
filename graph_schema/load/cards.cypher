// Shared payment values are nodes, so a value's degree is its rarity. Only the processor's
// fingerprint, the BIN and the last four digits exist here: never a card number.
UNWIND range(0, size($rows.card_fingerprint) - 1) AS i
WITH {card_fingerprint: $rows.card_fingerprint[i], n_accounts: $rows.n_accounts[i]} AS row
MERGE (c:Card {fingerprint: row.card_fingerprint})
SET c.n_accounts = row.n_accounts
