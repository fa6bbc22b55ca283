// Analyst decision: entity E belongs to organization O. The next attribution run attributes E
// to O with confidence 1.0 (evidence 'analyst') whatever the indicators say; an earlier NOT_ORG
// for the same pair is replaced. Never deleted by the pipeline.
// Parameters: $entity_id, $org_id, $analyst, $note
//   :param entity_id => 'ent-000001'
//   :param org_id => 'org-halcyon'
//   :param analyst => 'jdoe'
//   :param note => 'matches provider B report'
MATCH (e:Entity {entity_id: $entity_id})
MATCH (o:Organization {org_id: $org_id})
OPTIONAL MATCH (e)-[contradiction:NOT_ORG]->(o)
DELETE contradiction
MERGE (e)-[d:CONFIRMED_ORG]->(o)
SET d.analyst = $analyst, d.note = $note, d.decided_at = datetime()
RETURN e.entity_id AS entity_id, o.org_id AS org_id, type(d) AS decision, d.decided_at AS decided_at
