// Incremental load: MERGE between ends named by internal node id (see account_used_template.cypher).
// Address usage keeps first/last seen and volume: the same IP in the same hour is strong,
// the same IP weeks apart is weak, and analysts need to see which.
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i], first_seen_us: $rows.first_seen_us[i], last_seen_us: $rows.last_seen_us[i], n_events: $rows.n_events[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (ip) WHERE id(ip) = row.b
MERGE (a)-[r:USED_IP]->(ip)
// Timestamps arrive as epoch microseconds (cheap to send) and are stored as UTC DATETIME.
SET r.first_seen = datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.last_seen = datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.n_events = row.n_events
