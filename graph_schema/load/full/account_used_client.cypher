// Full load only (see full/account_used_template.cypher).
UNWIND $rows AS row
MATCH (a) WHERE id(a) = row.a
MATCH (ua) WHERE id(ua) = row.b
CREATE (a)-[r:USED_CLIENT]->(ua)
SET r.first_seen = datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.last_seen = datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.n = row.n, r.load_token = $load_token
