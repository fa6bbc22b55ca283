UNWIND $rows AS row
MATCH (n:Subnet {cidr: row.subnet})
DETACH DELETE n
