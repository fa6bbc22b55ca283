// Full load, after wipe_relationships: no derived relationship exists, so CREATE without the
// MERGE's existence check (rows are unique per key). Otherwise the same as ../account_used_client.cypher.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (ua:UserAgent {ua: row.ua})
CREATE (a)-[r:USED_CLIENT]->(ua)
// Timestamps arrive as epoch microseconds (cheap to send) and are stored as UTC DATETIME.
SET r.first_seen = datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.last_seen = datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}),
    r.n = row.n, r.load_token = $load_token
