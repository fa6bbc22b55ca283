UNWIND range(0, size($rows.card_bin) - 1) AS i
WITH {card_bin: $rows.card_bin[i], n_accounts: $rows.n_accounts[i]} AS row
MERGE (b:CardBin {bin: row.card_bin})
SET b.n_accounts = row.n_accounts
