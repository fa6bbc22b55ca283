// Attribution step 6: an analyst's CONFIRMED_ORG decides the attribution: confidence 1.0,
// evidence 'analyst'. Runs before the scored attribution so confirmed entities also act as
// sources of shared-infrastructure evidence. The decision relationship itself is only read.
// Parameters: $updated_at
//   :param updated_at => datetime()
MATCH (e:Entity)-[d:CONFIRMED_ORG]->(o:Organization)
CALL (e) {
  MATCH (e)-[old:ATTRIBUTED_TO]->(other:Organization)
  WHERE NOT (e)-[:CONFIRMED_ORG]->(other)
  DELETE old
}
MERGE (e)-[r:ATTRIBUTED_TO]->(o)
SET r.confidence = 1.0, r.method = 'analyst', r.updated_at = $updated_at,
    r.evidence = ['analyst: CONFIRMED_ORG' + coalesce(' by ' + d.analyst, '') + coalesce(' at ' + toString(d.decided_at), '')
                  + coalesce(' (' + d.note + ')', '')]
RETURN count(r) AS confirmed_attributions
