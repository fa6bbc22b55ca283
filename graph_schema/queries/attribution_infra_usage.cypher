// Attribution step 7: the cards, IPs and prompt templates the source entities use (entities
// attributed in this run with enough confidence, or confirmed by an analyst), and how many
// accounts of each entity use each of them: the shared-infrastructure evidence that carries
// an attribution to fragments and waves that leaked no indicator of their own (weighed by
// pipelines.scoring.infrastructure_evidence; pipelines.scoring.infrastructure_usage gathers
// the same rows from the stage frames), with each entity's size (the absence of an
// organization's clues is weighed against it). Values used by more than $max_value_accounts
// accounts are generic (a mobile carrier's NAT, a popular question) and left out.
// Parameters: $sources (entity ids), $max_value_accounts
//   :param sources => ['ent-camp']
//   :param max_value_accounts => 200
MATCH (f:Entity)
WHERE f.entity_id IN $sources
CALL (f) {
  MATCH (f)<-[:RESOLVED_TO]-(:Account)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:USES_CARD]->(v:Card)
  RETURN 'card' AS kind, v
  UNION
  MATCH (f)<-[:RESOLVED_TO]-(:Account)-[:USED_IP]->(v:IP)
  WHERE COUNT { (v)<-[:USED_IP]-() } <= $max_value_accounts
  RETURN 'ip' AS kind, v
  UNION
  MATCH (f)<-[:RESOLVED_TO]-(:Account)-[:USED_TEMPLATE]->(v:PromptTemplate)
  WHERE COUNT { (v)<-[:USED_TEMPLATE]-() } <= $max_value_accounts
  RETURN 'template' AS kind, v
}
WITH DISTINCT kind, v
CALL (v) {
  MATCH (v)<-[:USES_CARD]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(a:Account)
  RETURN a
  UNION
  MATCH (v)<-[:USED_IP]-(a:Account)
  RETURN a
  UNION
  MATCH (v)<-[:USED_TEMPLATE]-(a:Account)
  RETURN a
}
WITH kind, v, collect(a) AS users
WHERE size(users) <= $max_value_accounts
UNWIND users AS a
MATCH (a)-[:RESOLVED_TO]->(e:Entity)
WITH kind, coalesce(v.fingerprint, v.address, v.template_id) AS value, e, count(a) AS k
RETURN kind, value, e.entity_id AS entity_id, k, COUNT { (e)<-[:RESOLVED_TO]-() } AS entity_size
ORDER BY kind, value, entity_id
