// Before a changed subnet row is written again: its ASN link and AS name go.
UNWIND range(0, size($rows.subnet) - 1) AS i
WITH {subnet: $rows.subnet[i]} AS row
MATCH (:Subnet {cidr: row.subnet})-[r:IN_ASN]->()
DELETE r
