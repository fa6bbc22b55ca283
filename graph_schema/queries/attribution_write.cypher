// Attribution step 8b: write the attribution the rules decided (pipelines.scoring.decide_attributions,
// the same rules and the same figures as entities.csv) as
// (:Entity)-[:ATTRIBUTED_TO {confidence, logodds, method, evidence, runner_up, updated_at}]->(:Organization).
//   confidence = P(organization | evidence), organizations and 'none' competing:
//                exp(prior + L_o) / (1 + sum over candidates exp(prior + L))
// An entity's attribution from an earlier run that this run does not write again is removed
// by attribution_delete_stale. Organizations an analyst rejected (NOT_ORG) are never written;
// entities with a CONFIRMED_ORG keep the analyst's choice (attribution_confirmed). Campaign
// likelihood (campaign_score, is_campaign) is not used: whose it is and whether it is a
// campaign are separate questions.
// Parameters: $rows = [{entity_id, org_id, confidence, logodds, method, evidence, runner_up}], $updated_at
//   :param rows => [{entity_id: 'ent-camp', org_id: 'org-halcyon', confidence: 0.999, logodds: 7.0, method: 'indicators', evidence: ['+4.0 email_domain: 1 of the entity\'s 40 accounts (1 in all)'], runner_up: null}]
//   :param updated_at => datetime()
UNWIND $rows AS row
MATCH (e:Entity {entity_id: row.entity_id})
MATCH (o:Organization {org_id: row.org_id})
WITH e, o, row
WHERE NOT (e)-[:NOT_ORG]->(o) AND NOT (e)-[:CONFIRMED_ORG]->(:Organization)
MERGE (e)-[r:ATTRIBUTED_TO]->(o)
SET r.confidence = row.confidence, r.logodds = row.logodds, r.method = row.method,
    r.evidence = row.evidence, r.runner_up = row.runner_up, r.updated_at = $updated_at
RETURN count(r) AS attributed_entities
