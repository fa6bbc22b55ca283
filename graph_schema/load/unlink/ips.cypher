// Before a changed IP row is written again: its subnet link goes (the row may name another).
UNWIND $rows AS row
MATCH (:IP {address: row.ip})-[r:IN_SUBNET]->()
DELETE r
