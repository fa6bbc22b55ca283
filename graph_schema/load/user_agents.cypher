UNWIND range(0, size($rows.ua) - 1) AS i
WITH {ua: $rows.ua[i], family: $rows.family[i], version: $rows.version[i], n_accounts: $rows.n_accounts[i]} AS row
MERGE (ua:UserAgent {ua: row.ua})
SET ua.family = row.family, ua.version = row.version, ua.n_accounts = row.n_accounts
