UNWIND $rows AS row
MERGE (b:CardBin {bin: row.card_bin})
SET b.n_accounts = row.n_accounts
