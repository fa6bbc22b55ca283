// Attribution step 7: infrastructure shared with entities already attributed in this run (or
// confirmed by an analyst) points to the same organization. Only entities that their own
// indicators did not attribute are scored: the residential proxy pool and common task
// templates are shared across labs, so shared infrastructure must not outvote a lab's own
// leaked domain or legal name; it fills in fragments and waves that leaked nothing. For each source entity f
// attributed to o, every card, IP, prompt template and client user agent of f that is not
// generic (at most $max_value_accounts accounts use it) is followed to the other entities
// using it. For a value v shared by entity e:
//   share(v) = accounts of f using v / accounts outside e using v   (1 = only f and e use it)
//   support  = sum over v of (e's accounts using v) * share(v)^2 * confidence(f -> o)
//   log-odds = weight[kind] * log2(1 + support), at most $max_kind_logodds per kind and
//   $max_infra_logodds over all kinds
// A datacenter address rented by the campaign is shared with no stranger (share 1); a
// residential proxy exit used by many strangers is mostly not f's (share small, squared).
// A value f itself uses only once is a coincidence as often as a clue (an ordinary user's
// prompt that happens to match one campaign account's template), so per kind f must use it
// with at least $min_source_accounts[kind] accounts (a physical card: one is enough).
// Adds infra_logodds / infra_evidence to (:Entity)-[:CANDIDATE_ORG]->(:Organization).
// Parameters: $weights, $max_kind_logodds, $max_infra_logodds, $max_value_accounts,
//             $min_source_accounts, $min_source_confidence, $updated_at
//   :param weights => {card: 3.0, ip: 1.5, template: 1.5, user_agent: 0.75}
//   :param max_kind_logodds => 4.0
//   :param max_infra_logodds => 6.0
//   :param max_value_accounts => 200
//   :param min_source_accounts => {card: 1, ip: 2, template: 2, user_agent: 2}
//   :param min_source_confidence => 0.8
//   :param updated_at => datetime()
MATCH (f:Entity)-[src:ATTRIBUTED_TO]->(o:Organization)
WHERE src.updated_at = $updated_at AND src.confidence >= $min_source_confidence
CALL (f) {
  MATCH (f)<-[:RESOLVED_TO]-(:Account)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:USES_CARD]->(v:Card)
  WITH DISTINCT v
  MATCH (v)<-[:USES_CARD]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WITH v, e, count(DISTINCT a) AS k
  WITH v, collect({e: e, k: k}) AS users, sum(k) AS n
  WHERE n <= $max_value_accounts
  RETURN 'card' AS kind, v.fingerprint AS value, users, n
  UNION
  MATCH (f)<-[:RESOLVED_TO]-(:Account)-[:USED_IP]->(v:IP)
  WHERE coalesce(v.n_accounts, 0) <= $max_value_accounts
  WITH DISTINCT v
  MATCH (v)<-[:USED_IP]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WITH v, e, count(DISTINCT a) AS k
  WITH v, collect({e: e, k: k}) AS users, sum(k) AS n
  WHERE n <= $max_value_accounts
  RETURN 'ip' AS kind, v.address AS value, users, n
  UNION
  MATCH (f)<-[:RESOLVED_TO]-(:Account)-[:USED_TEMPLATE]->(v:PromptTemplate)
  WHERE coalesce(v.n_accounts, 0) <= $max_value_accounts
  WITH DISTINCT v
  MATCH (v)<-[:USED_TEMPLATE]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WITH v, e, count(DISTINCT a) AS k
  WITH v, collect({e: e, k: k}) AS users, sum(k) AS n
  WHERE n <= $max_value_accounts
  RETURN 'template' AS kind, v.template_id AS value, users, n
  UNION
  MATCH (f)<-[:RESOLVED_TO]-(:Account)-[:USED_CLIENT]->(v:UserAgent)
  WHERE coalesce(v.n_accounts, 0) <= $max_value_accounts
  WITH DISTINCT v
  MATCH (v)<-[:USED_CLIENT]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WITH v, e, count(DISTINCT a) AS k
  WITH v, collect({e: e, k: k}) AS users, sum(k) AS n
  WHERE n <= $max_value_accounts
  RETURN 'user_agent' AS kind, v.ua AS value, users, n
}
WITH f, o, src, kind, value, n, users,
     reduce(kf = 0, u IN users | kf + CASE WHEN u.e = f THEN u.k ELSE 0 END) AS k_f
WHERE k_f >= coalesce($min_source_accounts[kind], 1)
UNWIND users AS u
WITH f, o, src, kind, value, n, k_f, u.e AS e, u.k AS k_e
WHERE e <> f AND NOT (e)-[:NOT_ORG]->(o)
  AND NOT EXISTS { (e)-[done:ATTRIBUTED_TO]->() WHERE done.updated_at = $updated_at }
WITH o, e, kind, value, k_e, n,
     src.confidence * k_e * (toFloat(k_f) / (n - k_e)) ^ 2 AS support, f.entity_id AS source
ORDER BY support DESC, value, source
WITH o, e, kind, sum(support) AS support,
     collect(kind + ' ' + value + ': ' + toString(k_e) + ' accounts here, shared with ' + source
             + ' (' + toString(n) + ' accounts use it)') AS items
WITH o, e, kind, items,
     CASE WHEN coalesce($weights[kind], 0.0) * log(1.0 + support) / log(2.0) > $max_kind_logodds
          THEN toFloat($max_kind_logodds)
          ELSE coalesce($weights[kind], 0.0) * log(1.0 + support) / log(2.0) END AS logodds
WHERE logodds > 0.0
ORDER BY logodds DESC, kind
WITH o, e, CASE WHEN sum(logodds) > $max_infra_logodds THEN toFloat($max_infra_logodds) ELSE sum(logodds) END AS infra_logodds,
     collect('+' + toString(round(logodds, 2)) + ' ' + reduce(s = '', i IN items[0..3] | s + CASE WHEN s = '' THEN '' ELSE '; ' END + i)
             + CASE WHEN size(items) > 3 THEN '; ... ' + toString(size(items) - 3) + ' more' ELSE '' END) AS evidence
MERGE (e)-[c:CANDIDATE_ORG]->(o)
ON CREATE SET c.direct_logodds = 0.0, c.direct_evidence = []
SET c.infra_logodds = round(infra_logodds, 2), c.infra_evidence = evidence, c.updated_at = $updated_at
RETURN count(c) AS candidates_with_infrastructure
