// One Account per input account; `props` carries the normalised attributes and behaviour summary.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a += row.props
