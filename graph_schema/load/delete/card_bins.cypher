UNWIND $rows AS row
MATCH (n:CardBin {bin: row.card_bin})
DETACH DELETE n
