UNWIND range(0, size($rows.card_fingerprint) - 1) AS i
WITH {card_fingerprint: $rows.card_fingerprint[i]} AS row
MATCH (n:Card {fingerprint: row.card_fingerprint})
DETACH DELETE n
