// Full load only: right after the wipe no derived relationship exists, so CREATE (no check for
// an existing one) between nodes named by their internal ids (read once after the node
// statements: no index seek, no index-entry lock per row).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i], n: $rows.n[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (t) WHERE id(t) = row.b
CREATE (a)-[r:USED_TEMPLATE]->(t)
SET r.n = row.n
