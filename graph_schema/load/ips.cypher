UNWIND $rows AS row
MERGE (ip:IP {address: row.ip})
SET ip.network_type = row.network_type, ip.n_accounts = row.n_accounts
WITH ip, row
MATCH (s:Subnet {cidr: row.subnet})
MERGE (ip)-[:IN_SUBNET]->(s)
