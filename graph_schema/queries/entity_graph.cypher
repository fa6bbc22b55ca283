// Entity dossier, picture: the entity, its organization (attributed or decided), its accounts
// and their cards, networks and prompt templates, for the Browser's graph view. Each account
// shows at most $max_per_account neighbours of each kind so a 1,000-account campaign stays
// readable; generic values (used by more than $max_value_accounts accounts) are left out.
// Parameters: $entity_id, $max_accounts, $max_per_account, $max_value_accounts
//   :param entity_id => 'ent-000001'
//   :param max_accounts => 50
//   :param max_per_account => 3
//   :param max_value_accounts => 500
MATCH (e:Entity {entity_id: $entity_id})
OPTIONAL MATCH org_path = (e)-[:ATTRIBUTED_TO|CONFIRMED_ORG|NOT_ORG]->(:Organization)
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)
  RETURN a ORDER BY a.created_at LIMIT toInteger($max_accounts)
}
CALL (e, a) {
  MATCH p = (e)<-[:RESOLVED_TO]-(a)
  RETURN p
  UNION
  MATCH p = (a)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:USES_CARD|BILLED_TO]->(v)
  WHERE COUNT { (v)<--() } <= $max_value_accounts
  RETURN p LIMIT toInteger($max_per_account)
  UNION
  MATCH p = (a)-[:USED_IP]->(ip:IP)-[:IN_SUBNET]->(:Subnet)
  WHERE coalesce(ip.n_accounts, 0) <= $max_value_accounts
  RETURN p LIMIT toInteger($max_per_account)
  UNION
  MATCH p = (a)-[:USED_TEMPLATE]->(t:PromptTemplate)
  WHERE coalesce(t.n_accounts, 0) <= $max_value_accounts
  RETURN p LIMIT toInteger($max_per_account)
}
RETURN e, org_path, p
