// One Account per input account; `props` carries the normalised attributes and behaviour summary.
UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i], props: $rows.props[i], created_at_us: $rows.created_at_us[i], first_seen_us: $rows.first_seen_us[i], last_seen_us: $rows.last_seen_us[i]} AS row
MERGE (a:Account {account_id: row.account_id})
SET a += row.props, a.load_token = $load_token
// Timestamps arrive as epoch microseconds (cheap to send) and are stored as UTC DATETIME;
// a missing one (no traffic yet) removes the property, as a null in `props` would.
SET a.created_at = CASE WHEN row.created_at_us IS NULL THEN null ELSE datetime({epochSeconds: row.created_at_us / 1000000, nanosecond: row.created_at_us % 1000000 * 1000, timezone: 'UTC'}) END,
    a.first_seen = CASE WHEN row.first_seen_us IS NULL THEN null ELSE datetime({epochSeconds: row.first_seen_us / 1000000, nanosecond: row.first_seen_us % 1000000 * 1000, timezone: 'UTC'}) END,
    a.last_seen = CASE WHEN row.last_seen_us IS NULL THEN null ELSE datetime({epochSeconds: row.last_seen_us / 1000000, nanosecond: row.last_seen_us % 1000000 * 1000, timezone: 'UTC'}) END
