// Every entity with its attribution (if any): organization, confidence, method and evidence.
// The pipeline reads this after an attribution run; an analyst can filter by organization.
// Parameters: $org_id (null for all organizations)
//   :param org_id => null
MATCH (e:Entity)-[r:ATTRIBUTED_TO]->(o:Organization)
WHERE $org_id IS NULL OR o.org_id = $org_id
RETURN e.entity_id AS entity_id, o.org_id AS org_id, o.name AS org_name,
       r.confidence AS confidence, r.method AS method, r.evidence AS evidence,
       r.runner_up AS runner_up, e.n_accounts AS n_accounts,
       e.campaign_score AS campaign_score, e.is_campaign AS is_campaign
ORDER BY confidence DESC, entity_id
