// Full load only (see full/account_used_template.cypher): the wipe removed every IP, so each
// is CREATEd; its Subnet is named by internal id (null: no subnet node, the IP stays unlinked
// as with ips.cypher's MATCH).
UNWIND range(0, size($rows.ip) - 1) AS i
WITH {ip: $rows.ip[i], network_type: $rows.network_type[i], n_accounts: $rows.n_accounts[i], s: $rows.s[i]} AS row
CREATE (ip:IP {address: row.ip})
SET ip.network_type = row.network_type, ip.n_accounts = row.n_accounts
WITH ip, row
WHERE row.s IS NOT NULL
MATCH (s) WHERE id(s) = row.s
CREATE (ip)-[:IN_SUBNET]->(s)
