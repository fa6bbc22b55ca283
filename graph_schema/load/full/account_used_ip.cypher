// Full load only (see full/account_used_template.cypher).
UNWIND $rows AS row
MATCH (a) WHERE id(a) = row.a
MATCH (ip) WHERE id(ip) = row.b
CREATE (a)-[r:USED_IP]->(ip)
SET r.first_seen = datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.last_seen = datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.n_events = row.n_events,
    r.load_token = $load_token
