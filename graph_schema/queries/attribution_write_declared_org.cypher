// Attribution step 3 (rows computed in Python with rapidfuzz): accounts whose self-declared
// organization (typed at sign-up) resembles an organization's name or alias. One scan of the
// accounts; only the few declared values that matched are passed in.
// Parameters: $rows = [{declared_org, org_id, similarity (0..1), matched}], $updated_at
//   :param rows => [{declared_org: 'Halcyon Research', org_id: 'org-halcyon', similarity: 1.0, matched: 'Halcyon Research'}]
//   :param updated_at => datetime()
WITH $rows AS rows
MATCH (a:Account)
WHERE a.declared_org IN [r IN rows | r.declared_org]
UNWIND [r IN rows WHERE r.declared_org = a.declared_org] AS row
MATCH (o:Organization {org_id: row.org_id})
MERGE (a)-[m:DECLARED_ORG_MATCHES]->(o)
SET m.similarity = row.similarity, m.matched = row.matched, m.updated_at = $updated_at
RETURN count(m) AS declared_org_matches
