// Analysts' attribution decisions: confirmed_org forces an organization, not_org excludes one.
// Parameters: none
MATCH (e:Entity)-[d:CONFIRMED_ORG|NOT_ORG]->(o:Organization)
RETURN CASE type(d) WHEN 'CONFIRMED_ORG' THEN 'confirmed_org' ELSE 'not_org' END AS kind,
       e.entity_id AS entity_id, o.org_id AS org_id,
       d.analyst AS analyst, d.note AS note, d.decided_at AS decided_at
ORDER BY kind, entity_id, org_id
