// Email domains with how many accounts use them (their rarity as evidence).
UNWIND range(0, size($rows.domain) - 1) AS i
WITH {domain: $rows.domain[i], n_accounts: $rows.n_accounts[i], is_freemail: $rows.is_freemail[i], is_disposable: $rows.is_disposable[i]} AS row
MERGE (d:EmailDomain {domain: row.domain})
SET d.n_accounts = row.n_accounts, d.is_freemail = row.is_freemail, d.is_disposable = row.is_disposable
