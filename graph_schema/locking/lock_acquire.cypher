// Take the named lease when it is free, expired or already ours. The first SET takes the
// node's write lock, so the ownership test below reads the latest committed holder.
MERGE (l:PipelineLock {name: $name})
SET l.lock_touch = true
WITH l, l.owner = $owner AS ours,
     (l.owner IS NULL OR l.owner = $owner OR l.expires_at < datetime()) AS free
SET l.acquired_at = CASE WHEN free AND NOT coalesce(ours, false) THEN datetime() ELSE l.acquired_at END,
    l.owner = CASE WHEN free THEN $owner ELSE l.owner END,
    l.host = CASE WHEN free THEN $host ELSE l.host END,
    l.pid = CASE WHEN free THEN $pid ELSE l.pid END,
    l.expires_at = CASE WHEN free THEN datetime() + duration({seconds: $lease_seconds}) ELSE l.expires_at END
RETURN free AS acquired, l.owner AS owner, l.host AS host, l.pid AS pid,
       toString(l.acquired_at) AS acquired_at, toString(l.expires_at) AS expires_at
