// Entity dossier: one row summarising an entity for an analyst: size, campaign likelihood,
// attribution with its evidence, analyst decisions, and its accounts, cards, networks, prompt
// templates and clients, each value with how many accounts anywhere use it (its rarity).
// Exchanges by task over time: entity_activity_by_week.cypher; picture: entity_graph.cypher.
// Parameters: $entity_id, $max_items (values listed per section)
//   :param entity_id => 'ent-000001'
//   :param max_items => 15
MATCH (e:Entity {entity_id: $entity_id})
OPTIONAL MATCH (e)-[r:ATTRIBUTED_TO]->(o:Organization)
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)
  WITH a ORDER BY a.created_at
  RETURN count(a) AS n_accounts, min(a.created_at) AS first_created, max(a.created_at) AS last_created,
         collect(a.account_id)[0..toInteger($max_items)] AS accounts
}
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:USES_CARD]->(c:Card)
  WITH c, count(DISTINCT a) AS here
  ORDER BY here DESC
  RETURN count(c) AS n_cards,
         collect(c.fingerprint + ': ' + toString(here) + ' accounts here / '
                 + toString(COUNT { (c)<-[:USES_CARD]-() }) + ' payment methods anywhere')[0..toInteger($max_items)] AS cards
}
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:BILLED_TO]->(b:BillingName)
  WITH b, count(DISTINCT a) AS here
  ORDER BY here DESC
  RETURN collect(b.name_norm + ': ' + toString(here) + ' accounts here')[0..toInteger($max_items)] AS billing_names
}
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)-[u:USED_IP]->(:IP)-[:IN_SUBNET]->(s:Subnet)
  OPTIONAL MATCH (s)-[:IN_ASN]->(asn:ASN)
  WITH s, asn, count(DISTINCT a) AS here, sum(u.n_events) AS events
  ORDER BY here DESC
  RETURN count(s) AS n_subnets,
         collect(s.cidr + ' ' + coalesce(s.network_type, '?') + coalesce(' AS' + toString(asn.asn) + ' ' + asn.as_name, '')
                 + ': ' + toString(here) + ' accounts here, ' + toString(events) + ' events')[0..toInteger($max_items)] AS networks
}
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)-[u:USED_TEMPLATE]->(t:PromptTemplate)
  WITH t, count(DISTINCT a) AS here, sum(u.n) AS uses
  ORDER BY uses DESC
  RETURN count(t) AS n_templates,
         collect(t.template_id + ' [' + coalesce(t.task, '?') + '] ' + toString(uses) + ' uses by ' + toString(here)
                 + ' accounts here / ' + toString(coalesce(t.n_accounts, 0)) + ' anywhere: ' + left(coalesce(t.example, ''), 80))[0..toInteger($max_items)] AS templates
}
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)-[:USED_CLIENT]->(ua:UserAgent)
  WITH ua, count(DISTINCT a) AS here
  ORDER BY here DESC
  RETURN collect(ua.ua + ': ' + toString(here) + ' accounts here / ' + toString(coalesce(ua.n_accounts, 0)) + ' anywhere')[0..toInteger($max_items)] AS clients
}
CALL (e) {
  MATCH (e)<-[:RESOLVED_TO]-(a:Account)-[:HAS_EMAIL_DOMAIN]->(d:EmailDomain)
  WITH d, count(DISTINCT a) AS here
  ORDER BY here DESC
  RETURN collect(d.domain + ': ' + toString(here) + ' accounts here / ' + toString(coalesce(d.n_accounts, 0)) + ' anywhere')[0..toInteger($max_items)] AS email_domains
}
CALL (e) {
  OPTIONAL MATCH (e)-[d:CONFIRMED_ORG|NOT_ORG]->(x:Organization)
  RETURN collect(type(d) + ' ' + x.org_id + coalesce(' by ' + d.analyst, '')) AS org_decisions
}
RETURN e.entity_id AS entity, n_accounts, e.n_exchanges AS exchanges,
       round(e.campaign_score, 3) AS campaign_score, e.is_campaign AS is_campaign,
       o.org_id AS attributed_org, round(r.confidence, 3) AS attribution_confidence, r.evidence AS attribution_evidence,
       org_decisions, first_created, last_created, accounts, n_cards, cards, billing_names,
       n_subnets, networks, email_domains, n_templates, templates, clients
