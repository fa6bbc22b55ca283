// Top campaigns by exchanges, with the organization they are attributed to and how sure we
// are. Likelihood (campaign_score: is it a campaign?) and attribution (confidence: whose is
// it?) are separate columns because they are separate judgements.
// Parameters: $limit, $min_campaign_score (entities flagged is_campaign are always listed)
//   :param limit => 20
//   :param min_campaign_score => 0.5
MATCH (e:Entity)
WHERE e.is_campaign = true OR coalesce(e.campaign_score, 0.0) >= $min_campaign_score
OPTIONAL MATCH (e)-[r:ATTRIBUTED_TO]->(o:Organization)
RETURN e.entity_id AS entity, e.n_accounts AS accounts, e.n_exchanges AS exchanges,
       round(e.campaign_score, 3) AS campaign_score, e.is_campaign AS is_campaign,
       coalesce(o.name, '(unattributed)') AS organization, o.org_id AS org_id,
       round(r.confidence, 3) AS attribution_confidence, r.method AS attribution_method
ORDER BY exchanges DESC, accounts DESC, entity
LIMIT toInteger($limit)
