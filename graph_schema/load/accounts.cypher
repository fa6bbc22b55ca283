// One Account per input account; `props` carries the normalised attributes and behaviour summary.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a += row.props, a.load_token = $load_token
// Timestamps arrive as epoch microseconds (cheap to send) and are stored as UTC DATETIME;
// a missing one (no traffic yet) removes the property, as a null in `props` would.
SET a.created_at = CASE WHEN row.created_at_us IS NULL THEN null ELSE datetime({epochSeconds: row.created_at_us / 1000000, nanosecond: row.created_at_us % 1000000 * 1000, timezone: 'UTC'}) END,
    a.first_seen = CASE WHEN row.first_seen_us IS NULL THEN null ELSE datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}) END,
    a.last_seen = CASE WHEN row.last_seen_us IS NULL THEN null ELSE datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}) END
