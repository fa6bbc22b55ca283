// Which organization does an indicator point to? $value is an IP address, a card fingerprint
// or an email domain. Two kinds of answers: the organization's own listed indicators (its
// email domain, its ASN or CIDR), and the organizations the entities using the value are
// attributed to, with how many of the value's accounts are in them.
// Parameters: $value
//   :param value => 'halcyon-research.example'
CALL () {
  MATCH (d:EmailDomain {domain: toLower($value)})<-[:USES_DOMAIN]-(o:Organization)
  RETURN o, 'listed email domain of the organization' AS via, null AS accounts, null AS confidence
  UNION
  MATCH (:IP {address: $value})-[n:IN_ORG_NETWORK]->(o:Organization)
  RETURN o, 'inside the organization network ' + n.cidr AS via, null AS accounts, null AS confidence
  UNION
  MATCH (:IP {address: $value})-[:IN_SUBNET]->(:Subnet)-[:IN_ASN]->(asn:ASN)<-[:OWNS_ASN]-(o:Organization)
  RETURN o, 'in the organization ASN AS' + toString(asn.asn) AS via, null AS accounts, null AS confidence
  UNION
  MATCH (a:Account)-[:USED_IP]->(:IP {address: $value})
  MATCH (a)-[:RESOLVED_TO]->(e:Entity)-[r:ATTRIBUTED_TO]->(o:Organization)
  WITH o, count(DISTINCT a) AS accounts, count(DISTINCT e) AS entities, max(r.confidence) AS confidence
  RETURN o, 'IP used by ' + toString(accounts) + ' accounts of ' + toString(entities) + ' entities attributed to it' AS via,
         accounts, confidence
  UNION
  MATCH (a:Account)-[:HAS_PAYMENT_METHOD]->(:PaymentMethod)-[:USES_CARD]->(:Card {fingerprint: $value})
  MATCH (a)-[:RESOLVED_TO]->(e:Entity)-[r:ATTRIBUTED_TO]->(o:Organization)
  WITH o, count(DISTINCT a) AS accounts, count(DISTINCT e) AS entities, max(r.confidence) AS confidence
  RETURN o, 'card used by ' + toString(accounts) + ' accounts of ' + toString(entities) + ' entities attributed to it' AS via,
         accounts, confidence
  UNION
  MATCH (a:Account)-[:HAS_EMAIL_DOMAIN]->(:EmailDomain {domain: toLower($value)})
  MATCH (a)-[:RESOLVED_TO]->(e:Entity)-[r:ATTRIBUTED_TO]->(o:Organization)
  WITH o, count(DISTINCT a) AS accounts, count(DISTINCT e) AS entities, max(r.confidence) AS confidence
  RETURN o, 'email domain used by ' + toString(accounts) + ' accounts of ' + toString(entities) + ' entities attributed to it' AS via,
         accounts, confidence
}
RETURN o.org_id AS org_id, o.name AS organization, via, accounts, round(confidence, 3) AS best_attribution_confidence
ORDER BY accounts IS NULL DESC, accounts DESC
