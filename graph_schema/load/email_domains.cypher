// Email domains with how many accounts use them (their rarity as evidence).
UNWIND $rows AS row
MERGE (d:EmailDomain {domain: row.domain})
SET d.n_accounts = row.n_accounts, d.is_freemail = row.is_freemail, d.is_disposable = row.is_disposable
