// Before a changed IP row is written again: its subnet link goes (the row may name another).
UNWIND range(0, size($rows.ip) - 1) AS i
WITH {ip: $rows.ip[i]} AS row
MATCH (:IP {address: row.ip})-[r:IN_SUBNET]->()
DELETE r
