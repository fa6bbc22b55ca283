// Why are account A and account B in the same entity? The shortest chain of scored evidence
// (LINKED) between them, one row per hop: the link's score and evidence (kind, value, weight),
// and each value the two accounts actually share in the graph with how many accounts anywhere
// use it: a card used by 2 accounts is strong, an IP used by 3,000 is noise.
// Parameters: $account_a, $account_b (at most 12 hops apart)
//   :param account_a => 'acc-000001'
//   :param account_b => 'acc-000002'
MATCH (a:Account {account_id: $account_a}), (b:Account {account_id: $account_b})
OPTIONAL MATCH (a)-[:RESOLVED_TO]->(ea:Entity)
OPTIONAL MATCH (b)-[:RESOLVED_TO]->(eb:Entity)
MATCH p = SHORTEST 1 (a)-[:LINKED]-{1, 12}(b)
UNWIND range(0, length(p) - 1) AS hop
WITH ea, eb, hop, nodes(p)[hop] AS x, nodes(p)[hop + 1] AS y, relationships(p)[hop] AS link
CALL (x, y) {
  MATCH (x)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:USES_CARD]->(v:Card)<-[:USES_CARD]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(y)
  RETURN 'card ' + v.fingerprint + ' (' + toString(COUNT { (v)<-[:USES_CARD]-() }) + ' payment methods)' AS shared
  UNION
  MATCH (x)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:BILLED_TO]->(v:BillingName)<-[:BILLED_TO]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(y)
  RETURN 'billing name ' + v.name_norm + ' (' + toString(COUNT { (v)<-[:BILLED_TO]-() }) + ' payment methods)' AS shared
  UNION
  MATCH (x)-[:USED_IP]->(v:IP)<-[:USED_IP]-(y)
  RETURN 'ip ' + v.address + ' ' + coalesce(v.network_type, '') + ' (' + toString(coalesce(v.n_accounts, COUNT { (v)<-[:USED_IP]-() })) + ' accounts)' AS shared
  UNION
  MATCH (x)-[:USED_TEMPLATE]->(v:PromptTemplate)<-[:USED_TEMPLATE]-(y)
  RETURN 'template ' + v.template_id + ' (' + toString(coalesce(v.n_accounts, COUNT { (v)<-[:USED_TEMPLATE]-() })) + ' accounts)' AS shared
  UNION
  MATCH (x)-[:USED_CLIENT]->(v:UserAgent)<-[:USED_CLIENT]-(y)
  RETURN 'client ' + v.ua + ' (' + toString(coalesce(v.n_accounts, COUNT { (v)<-[:USED_CLIENT]-() })) + ' accounts)' AS shared
  UNION
  MATCH (x)-[:HAS_EMAIL_DOMAIN]->(v:EmailDomain)<-[:HAS_EMAIL_DOMAIN]-(y)
  RETURN 'email domain ' + v.domain + ' (' + toString(coalesce(v.n_accounts, COUNT { (v)<-[:HAS_EMAIL_DOMAIN]-() })) + ' accounts)' AS shared
}
WITH ea, eb, hop, x, y, link, collect(shared) AS shared_values
RETURN hop + 1 AS hop, x.account_id AS from_account, y.account_id AS to_account,
       round(link.score, 3) AS link_score, link.kinds AS kinds, link.evidence AS evidence,
       shared_values, ea.entity_id AS entity_a, eb.entity_id AS entity_b,
       ea = eb AS same_entity
ORDER BY hop
