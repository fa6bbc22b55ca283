UNWIND range(0, size($rows.ip) - 1) AS i
WITH {ip: $rows.ip[i]} AS row
MATCH (n:IP {address: row.ip})
DETACH DELETE n
