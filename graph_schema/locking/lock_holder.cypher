MATCH (l:PipelineLock {name: $name})
RETURN l.owner AS owner, l.host AS host, l.pid AS pid,
       toString(l.acquired_at) AS acquired_at, toString(l.expires_at) AS expires_at
