// Full load only (see full/account_used_template.cypher).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i], first_seen_us: $rows.first_seen_us[i], last_seen_us: $rows.last_seen_us[i], n: $rows.n[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (ua) WHERE id(ua) = row.b
CREATE (a)-[r:USED_CLIENT]->(ua)
SET r.first_seen = datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.last_seen = datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.n = row.n
