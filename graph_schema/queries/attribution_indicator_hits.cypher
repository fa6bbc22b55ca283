// Attribution step 5: every account carrying one of an organization's own indicators, with its
// entity: the evidence the attribution rules weigh (pipelines.scoring.decide_attributions, the
// same rules entities.csv comes from; pipelines.scoring.indicator_hits gathers the same rows
// from the stage frames). Kinds and values:
//   email_domain  the account's e-mail domain is listed (USES_DOMAIN)        value: the domain
//   asn           it used an IP whose subnet is in a listed ASN (OWNS_ASN)   value: 'AS' + number
//   cidr          it used an IP inside a listed prefix (IN_ORG_NETWORK)      value: the prefix
//   billing_name  a billing name resembles a legal name (SIMILAR_BILLING_NAME) value: the name
//   declared_org  the organization it typed resembles one (DECLARED_ORG_MATCHES) value: as typed
// The last three as derived by this run's steps 1-3 (same $updated_at). entity_size is the
// entity's number of accounts, population the number of accounts in the graph.
// Parameters: $updated_at
//   :param updated_at => datetime()
MATCH (o:Organization)
CALL (o) {
  MATCH (o)-[:USES_DOMAIN]->(d:EmailDomain)<-[:HAS_EMAIL_DOMAIN]-(a:Account)
  RETURN a, 'email_domain' AS kind, d.domain AS value, 1.0 AS similarity, d.domain AS matched
  UNION
  MATCH (o)-[:OWNS_ASN]->(asn:ASN)<-[:IN_ASN]-(:Subnet)<-[:IN_SUBNET]-(:IP)<-[:USED_IP]-(a:Account)
  RETURN a, 'asn' AS kind, 'AS' + toString(asn.asn) AS value, 1.0 AS similarity, 'AS' + toString(asn.asn) AS matched
  UNION
  MATCH (o)<-[net:IN_ORG_NETWORK]-(:IP)<-[:USED_IP]-(a:Account)
  WHERE net.updated_at = $updated_at
  RETURN a, 'cidr' AS kind, net.cidr AS value, 1.0 AS similarity, net.cidr AS matched
  UNION
  MATCH (o)<-[s:SIMILAR_BILLING_NAME]-(b:BillingName)<-[:BILLED_TO]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(a:Account)
  WHERE s.updated_at = $updated_at
  RETURN a, 'billing_name' AS kind, b.name_norm AS value, s.similarity AS similarity, s.matched AS matched
  UNION
  MATCH (o)<-[m:DECLARED_ORG_MATCHES]-(a:Account)
  WHERE m.updated_at = $updated_at
  RETURN a, 'declared_org' AS kind, a.declared_org AS value, m.similarity AS similarity, m.matched AS matched
}
MATCH (a)-[:RESOLVED_TO]->(e:Entity)
RETURN e.entity_id AS entity_id, a.account_id AS account_id, o.org_id AS org_id, kind, value, similarity, matched,
       COUNT { (e)<-[:RESOLVED_TO]-(:Account) } AS entity_size, COUNT { (:Account) } AS population
ORDER BY entity_id, org_id, kind, value, account_id
