UNWIND range(0, size($rows.card_bin) - 1) AS i
WITH {card_bin: $rows.card_bin[i]} AS row
MATCH (n:CardBin {bin: row.card_bin})
DETACH DELETE n
