// Entities left without members are gone, unless an analyst decision hangs on them.
MATCH (e:Entity)
WHERE NOT (e)<-[:RESOLVED_TO]-() AND NOT (e)-[:CONFIRMED_ORG|NOT_ORG]->()
DETACH DELETE e
