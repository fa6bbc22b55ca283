// Attribution step 2 (rows computed in Python with rapidfuzz, since Cypher has no fuzzy
// matcher): a normalised billing name that resembles an organization's legal name, alias or
// name. Billing names that are not in the graph are ignored.
// Parameters: $rows = [{name_norm, org_id, similarity (0..1), matched}], $updated_at
//   :param rows => [{name_norm: 'halcyon research ltd', org_id: 'org-halcyon', similarity: 0.97, matched: 'Halcyon Research Ltd'}]
//   :param updated_at => datetime()
UNWIND $rows AS row
MATCH (b:BillingName {name_norm: row.name_norm})
MATCH (o:Organization {org_id: row.org_id})
MERGE (b)-[r:SIMILAR_BILLING_NAME]->(o)
SET r.similarity = row.similarity, r.matched = row.matched, r.updated_at = $updated_at
RETURN count(r) AS similar_billing_names
