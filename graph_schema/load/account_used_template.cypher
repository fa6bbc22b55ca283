// Incremental load: a new or changed row; MERGE, since the relationship may exist already. Both ends
// are named by internal node id (read after this load's node statements, as a full load does):
// no index seek and no index-entry lock per row.
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i], n: $rows.n[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (t) WHERE id(t) = row.b
MERGE (a)-[r:USED_TEMPLATE]->(t)
SET r.n = row.n
