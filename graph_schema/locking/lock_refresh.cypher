// Extend our lease (heartbeat); pid null parks the lease between two steps of one run.
MATCH (l:PipelineLock {name: $name})
WHERE l.owner = $owner
SET l.expires_at = datetime() + duration({seconds: $lease_seconds}), l.pid = $pid
RETURN count(l) AS refreshed
