// Attribution step 5: score every (Entity, Organization) pair from the organization's own
// indicators found among the entity's accounts, and store the score as
// (:Entity)-[:CANDIDATE_ORG {direct_logodds, direct_evidence, infra_logodds, infra_evidence}]->(:Organization).
//
// Indicator kinds: the organization's email domains (USES_DOMAIN), traffic from its ASNs
// (OWNS_ASN) and listed CIDRs (IN_ORG_NETWORK), billing names resembling its legal names
// (SIMILAR_BILLING_NAME, weighted by similarity), and declared organization (DECLARED_ORG_MATCHES);
// the last three as derived by this run's steps 1-3 (same $updated_at).
// Per kind, with k = the entity's accounts showing it (similarity-weighted) and n = all
// accounts showing the same values:
//   log-odds = weight[kind] * log2(1 + k) * sqrt(k / n), at most $max_kind_logodds
// log2(1 + k): one leaking account out of a thousand already counts (careful campaigns leak
// in 1-3 % of accounts), more accounts count more but with diminishing returns.
// sqrt(k / n): how rare the value is outside this entity. A lab's own domain seen only in this
// entity counts fully; a university domain shared by hundreds of independent students counts
// little for any one of them, so farmed education sign-ups cannot outvote a lab's own leak.
// Parameters: $weights (map kind -> weight), $max_kind_logodds, $updated_at
//   :param weights => {email_domain: 2.5, billing_name: 2.5, asn: 2.0, cidr: 1.5, declared_org: 1.5}
//   :param max_kind_logodds => 4.0
//   :param updated_at => datetime()
MATCH (o:Organization)
CALL (o) {
  MATCH (o)-[:USES_DOMAIN]->(d:EmailDomain)<-[:HAS_EMAIL_DOMAIN]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WITH d, e, count(DISTINCT a) AS k
  WITH d, collect({e: e, k: k}) AS users, sum(k) AS n
  UNWIND users AS u
  RETURN u.e AS e, 'email_domain' AS kind, d.domain AS value, u.k AS k, n, 1.0 AS similarity
  UNION
  MATCH (o)-[:OWNS_ASN]->(asn:ASN)<-[:IN_ASN]-(:Subnet)<-[:IN_SUBNET]-(:IP)<-[:USED_IP]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WITH asn, e, count(DISTINCT a) AS k
  WITH asn, collect({e: e, k: k}) AS users, sum(k) AS n
  UNWIND users AS u
  RETURN u.e AS e, 'asn' AS kind, 'AS' + toString(asn.asn) AS value, u.k AS k, n, 1.0 AS similarity
  UNION
  MATCH (o)<-[net:IN_ORG_NETWORK]-(:IP)<-[:USED_IP]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WHERE net.updated_at = $updated_at
  WITH net.cidr AS cidr, e, count(DISTINCT a) AS k
  WITH cidr, collect({e: e, k: k}) AS users, sum(k) AS n
  UNWIND users AS u
  RETURN u.e AS e, 'cidr' AS kind, cidr AS value, u.k AS k, n, 1.0 AS similarity
  UNION
  MATCH (o)<-[s:SIMILAR_BILLING_NAME]-(b:BillingName)<-[:BILLED_TO]-(:PaymentMethod)<-[:HAS_PAYMENT_METHOD]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WHERE s.updated_at = $updated_at
  WITH b, s, e, count(DISTINCT a) AS k
  WITH b, s, collect({e: e, k: k}) AS users, sum(k) AS n
  UNWIND users AS u
  RETURN u.e AS e, 'billing_name' AS kind, b.name_norm AS value, u.k AS k, n, s.similarity AS similarity
  UNION
  MATCH (o)<-[m:DECLARED_ORG_MATCHES]-(a:Account)-[:RESOLVED_TO]->(e:Entity)
  WHERE m.updated_at = $updated_at
  WITH a.declared_org AS declared, m.similarity AS similarity, e, count(DISTINCT a) AS k
  WITH declared, similarity, collect({e: e, k: k}) AS users, sum(k) AS n
  UNWIND users AS u
  RETURN u.e AS e, 'declared_org' AS kind, declared AS value, u.k AS k, n, similarity
}
WITH o, e, kind, value, k, n, similarity
ORDER BY k DESC, value
WITH o, e, kind,
     sum(k * similarity) AS support, sum(k) AS k_all, sum(n) AS n_all,
     collect(kind + ' ' + value + ': ' + toString(k) + ' of the ' + toString(n) + ' accounts with it are here'
             + CASE WHEN similarity < 1.0 THEN ' (similarity ' + toString(round(similarity, 2)) + ')' ELSE '' END) AS items
WITH o, e, kind, items,
     CASE WHEN coalesce($weights[kind], 0.0) * log(1.0 + support) / log(2.0) * sqrt(toFloat(k_all) / n_all) > $max_kind_logodds
          THEN toFloat($max_kind_logodds)
          ELSE coalesce($weights[kind], 0.0) * log(1.0 + support) / log(2.0) * sqrt(toFloat(k_all) / n_all) END AS logodds
ORDER BY logodds DESC, kind
WITH o, e, sum(logodds) AS direct_logodds,
     collect('+' + toString(round(logodds, 2)) + ' ' + reduce(s = '', i IN items[0..3] | s + CASE WHEN s = '' THEN '' ELSE '; ' END + i)
             + CASE WHEN size(items) > 3 THEN '; ... ' + toString(size(items) - 3) + ' more' ELSE '' END) AS evidence
MERGE (e)-[c:CANDIDATE_ORG]->(o)
SET c.direct_logodds = round(direct_logodds, 2), c.direct_evidence = evidence,
    c.infra_logodds = 0.0, c.infra_evidence = [], c.updated_at = $updated_at
RETURN count(c) AS candidates
