UNWIND range(0, size($rows.ip) - 1) AS i
WITH {ip: $rows.ip[i], network_type: $rows.network_type[i], n_accounts: $rows.n_accounts[i], subnet: $rows.subnet[i]} AS row
MERGE (ip:IP {address: row.ip})
SET ip.network_type = row.network_type, ip.n_accounts = row.n_accounts
WITH ip, row
MATCH (s:Subnet {cidr: row.subnet})
MERGE (ip)-[:IN_SUBNET]->(s)
