// Attribution steps 6b and 8: pick the best organization per entity from CANDIDATE_ORG and
// write (:Entity)-[:ATTRIBUTED_TO {confidence, evidence, runner_up, method, updated_at}]->(:Organization).
//   confidence = 1 / (1 + exp(-($prior_logodds + direct_logodds + infra_logodds)))
// Only written when confidence >= $min_confidence and the best beats the runner-up by at least
// $min_margin log-odds: a weak or ambiguous entity stays unattributed rather than guessed.
// Organizations the analyst rejected (NOT_ORG) are never candidates; entities with a
// CONFIRMED_ORG keep the analyst's choice. Every scored entity's previous ATTRIBUTED_TO is
// replaced. Campaign likelihood (campaign_score, is_campaign) is not used: whose it is and
// whether it is a campaign are separate questions.
// Parameters: $prior_logodds, $min_confidence, $min_margin, $updated_at
//   :param prior_logodds => -3.0
//   :param min_confidence => 0.6
//   :param min_margin => 1.0
//   :param updated_at => datetime()
MATCH (e:Entity)-[c:CANDIDATE_ORG]->(o:Organization)
WHERE c.updated_at = $updated_at AND NOT (e)-[:NOT_ORG]->(o) AND NOT (e)-[:CONFIRMED_ORG]->(:Organization)
WITH e, o, c, $prior_logodds + c.direct_logodds + c.infra_logodds AS logodds
ORDER BY logodds DESC, o.org_id
WITH e, collect({o: o, c: c, logodds: logodds}) AS ranked
CALL (e) {
  MATCH (e)-[old:ATTRIBUTED_TO]->(:Organization)
  DELETE old
}
WITH e, ranked[0] AS best, ranked[1] AS second,
     1.0 / (1.0 + exp(-ranked[0].logodds)) AS confidence
WHERE confidence >= $min_confidence
  AND (second IS NULL OR best.logodds - second.logodds >= $min_margin)
WITH e, best, second, confidence, best.o AS o
MERGE (e)-[r:ATTRIBUTED_TO]->(o)
SET r.confidence = round(confidence, 3),
    r.logodds = round(best.logodds, 2),
    r.method = CASE WHEN best.c.infra_logodds > 0 AND best.c.direct_logodds > 0 THEN 'indicators+infrastructure'
                    WHEN best.c.infra_logodds > 0 THEN 'infrastructure' ELSE 'indicators' END,
    r.evidence = best.c.direct_evidence + best.c.infra_evidence,
    r.runner_up = CASE WHEN second IS NULL THEN null
                       ELSE second.o.org_id + ' (log-odds ' + toString(round(second.logodds, 2)) + ')' END,
    r.updated_at = $updated_at
RETURN count(r) AS attributed_entities
