// Accounts created in bursts: hours in which at least $min_accounts accounts were created,
// with how many entities they belong to and the largest of them. A campaign signs up
// hundreds of accounts in a few hours into one entity; a university at semester start signs up
// many accounts into many separate entities.
// Parameters: $min_accounts, $limit
//   :param min_accounts => 10
//   :param limit => 25
MATCH (a:Account)
WHERE a.created_at IS NOT NULL
WITH datetime.truncate('hour', CASE WHEN a.created_at IS :: STRING THEN datetime(a.created_at) ELSE a.created_at END) AS hour,
     collect(a) AS accounts
WHERE size(accounts) >= $min_accounts
UNWIND accounts AS a
OPTIONAL MATCH (a)-[:RESOLVED_TO]->(e:Entity)
OPTIONAL MATCH (e)-[r:ATTRIBUTED_TO]->(o:Organization)
WITH hour, size(accounts) AS created, e, o, count(a) AS from_entity
ORDER BY from_entity DESC
WITH hour, created, count(e) AS entities,
     collect(e.entity_id + ' x' + toString(from_entity)
             + CASE WHEN e.is_campaign THEN ' (campaign)' ELSE '' END
             + coalesce(' -> ' + o.org_id, ''))[0..5] AS largest_entities,
     max(from_entity) AS largest_share
RETURN hour, created, entities, round(toFloat(largest_share) / created, 3) AS largest_entity_share, largest_entities
ORDER BY created DESC, hour
LIMIT toInteger($limit)
