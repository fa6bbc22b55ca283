UNWIND range(0, size($rows.ua) - 1) AS i
WITH {ua: $rows.ua[i]} AS row
MATCH (n:UserAgent {ua: row.ua})
DETACH DELETE n
