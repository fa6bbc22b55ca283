// Full load only (see full/account_used_template.cypher).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i], first_seen_us: $rows.first_seen_us[i], last_seen_us: $rows.last_seen_us[i], n_events: $rows.n_events[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (ip) WHERE id(ip) = row.b
CREATE (a)-[r:USED_IP]->(ip)
SET r.first_seen = datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.last_seen = datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.n_events = row.n_events
