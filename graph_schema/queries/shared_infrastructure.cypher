// Infrastructure shared between two entities: every card, billing name, IP, subnet, prompt
// template, client and email domain that accounts of both use, with the number of accounts on
// each side and anywhere (accounts_anywhere). Rare values shared by both sides suggest one operator (or one
// organization running two waves); generic ones (a carrier NAT, a popular SDK) do not.
// Parameters: $entity_a, $entity_b
//   :param entity_a => 'ent-000001'
//   :param entity_b => 'ent-000002'
MATCH (ea:Entity {entity_id: $entity_a}), (eb:Entity {entity_id: $entity_b})
CALL (ea, eb) {
  MATCH (ea)<-[:RESOLVED_TO]-(x:Account)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:USES_CARD]->(v:Card)<-[:USES_CARD]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(y:Account)-[:RESOLVED_TO]->(eb)
  RETURN 'card' AS kind, v.fingerprint AS value, count(DISTINCT x) AS accounts_a, count(DISTINCT y) AS accounts_b,
         COUNT { MATCH (v)<-[:USES_CARD]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(a:Account) RETURN DISTINCT a } AS accounts_anywhere
  UNION
  MATCH (ea)<-[:RESOLVED_TO]-(x:Account)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:BILLED_TO]->(v:BillingName)<-[:BILLED_TO]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(y:Account)-[:RESOLVED_TO]->(eb)
  RETURN 'billing_name' AS kind, v.name_norm AS value, count(DISTINCT x) AS accounts_a, count(DISTINCT y) AS accounts_b,
         COUNT { MATCH (v)<-[:BILLED_TO]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(a:Account) RETURN DISTINCT a } AS accounts_anywhere
  UNION
  MATCH (ea)<-[:RESOLVED_TO]-(x:Account)-[:USED_IP]->(v:IP)<-[:USED_IP]-(y:Account)-[:RESOLVED_TO]->(eb)
  RETURN 'ip' AS kind, v.address + coalesce(' ' + v.network_type, '') AS value, count(DISTINCT x) AS accounts_a,
         count(DISTINCT y) AS accounts_b, coalesce(v.n_accounts, COUNT { (v)<-[:USED_IP]-() }) AS accounts_anywhere
  UNION
  MATCH (ea)<-[:RESOLVED_TO]-(x:Account)-[:USED_IP]->(:IP)-[:IN_SUBNET]->(v:Subnet)<-[:IN_SUBNET]-(:IP)<-[:USED_IP]-(y:Account)-[:RESOLVED_TO]->(eb)
  RETURN 'subnet' AS kind, v.cidr + coalesce(' ' + v.network_type, '') AS value, count(DISTINCT x) AS accounts_a,
         count(DISTINCT y) AS accounts_b, COUNT { MATCH (v)<-[:IN_SUBNET]-(:IP)<-[:USED_IP]-(a:Account) RETURN DISTINCT a } AS accounts_anywhere
  UNION
  MATCH (ea)<-[:RESOLVED_TO]-(x:Account)-[:USED_TEMPLATE]->(v:PromptTemplate)<-[:USED_TEMPLATE]-(y:Account)-[:RESOLVED_TO]->(eb)
  RETURN 'template' AS kind, v.template_id + coalesce(' [' + v.task + ']', '') AS value, count(DISTINCT x) AS accounts_a,
         count(DISTINCT y) AS accounts_b, coalesce(v.n_accounts, COUNT { (v)<-[:USED_TEMPLATE]-() }) AS accounts_anywhere
  UNION
  MATCH (ea)<-[:RESOLVED_TO]-(x:Account)-[:USED_CLIENT]->(v:UserAgent)<-[:USED_CLIENT]-(y:Account)-[:RESOLVED_TO]->(eb)
  RETURN 'user_agent' AS kind, v.ua AS value, count(DISTINCT x) AS accounts_a, count(DISTINCT y) AS accounts_b,
         coalesce(v.n_accounts, COUNT { (v)<-[:USED_CLIENT]-() }) AS accounts_anywhere
  UNION
  MATCH (ea)<-[:RESOLVED_TO]-(x:Account)-[:HAS_EMAIL_DOMAIN]->(v:EmailDomain)<-[:HAS_EMAIL_DOMAIN]-(y:Account)-[:RESOLVED_TO]->(eb)
  RETURN 'email_domain' AS kind, v.domain AS value, count(DISTINCT x) AS accounts_a, count(DISTINCT y) AS accounts_b,
         coalesce(v.n_accounts, COUNT { (v)<-[:HAS_EMAIL_DOMAIN]-() }) AS accounts_anywhere
}
RETURN kind, value, accounts_a, accounts_b, accounts_anywhere,
       round(toFloat(accounts_a + accounts_b) / accounts_anywhere, 3) AS share_of_users_in_the_two
ORDER BY share_of_users_in_the_two DESC, accounts_anywhere ASC, kind, value
