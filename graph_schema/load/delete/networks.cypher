UNWIND range(0, size($rows.subnet) - 1) AS i
WITH {subnet: $rows.subnet[i]} AS row
MATCH (n:Subnet {cidr: row.subnet})
DETACH DELETE n
