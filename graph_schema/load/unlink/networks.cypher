// Before a changed subnet row is written again: its ASN link and AS name go.
UNWIND $rows AS row
MATCH (:Subnet {cidr: row.subnet})-[r:IN_ASN]->()
DELETE r
