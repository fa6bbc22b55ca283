UNWIND $rows AS row
MATCH (n:Card {fingerprint: row.card_fingerprint})
DETACH DELETE n
