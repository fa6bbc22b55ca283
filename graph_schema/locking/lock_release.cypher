// Free the lease if (still) held by $owner (and, when given, by process $pid).
MATCH (l:PipelineLock {name: $name})
SET l.lock_touch = true
WITH l
WHERE l.owner = $owner AND ($pid IS NULL OR l.pid = $pid)
// no release time: a free lock node looks the same after every run (graph snapshots compare)
SET l.owner = null, l.host = null, l.pid = null, l.expires_at = null, l.acquired_at = null
RETURN count(l) AS released
