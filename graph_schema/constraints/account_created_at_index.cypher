CREATE INDEX account_created_at_index IF NOT EXISTS
FOR (n:Account) ON (n.created_at)
