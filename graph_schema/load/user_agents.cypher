UNWIND $rows AS row
MERGE (ua:UserAgent {ua: row.ua})
SET ua.family = row.family, ua.version = row.version, ua.n_accounts = row.n_accounts
