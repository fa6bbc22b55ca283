// Relationships between accounts, entities and organizations that no pipeline step writes and
// no analyst decision means: a mistyped decision (SAME_OPERATR, same_operator, CONFIRMED_ORGG)
// or one drawn the wrong way (CONFIRMED_ORG from the organization to the entity). Nothing
// reads them, so they change nothing; this lists them so that the analyst can fix them.
// Parameters: $known: the allowed "TYPE:FromLabel:ToLabel" triples (attribution.KNOWN_RELATIONSHIPS)
//   :param known => ['RESOLVED_TO:Account:Entity', 'LINKED:Account:Account', 'DECLARED_ORG_MATCHES:Account:Organization', 'CANDIDATE_ORG:Entity:Organization', 'ATTRIBUTED_TO:Entity:Organization', 'SAME_OPERATOR:Account:Account', 'NOT_SAME_OPERATOR:Account:Account', 'CONFIRMED_ORG:Entity:Organization', 'NOT_ORG:Entity:Organization']
MATCH (a)-[r]->(b)
WHERE (a:Account OR a:Entity OR a:Organization) AND (b:Account OR b:Entity OR b:Organization)
WITH r, a, b,
     [l IN labels(a) WHERE l IN ['Account', 'Entity', 'Organization']][0] AS from_label,
     [l IN labels(b) WHERE l IN ['Account', 'Entity', 'Organization']][0] AS to_label
WHERE NOT (type(r) + ':' + from_label + ':' + to_label) IN $known
WITH type(r) AS type, from_label, to_label,
     coalesce(a.account_id, a.entity_id, a.org_id) AS from_id,
     coalesce(b.account_id, b.entity_id, b.org_id) AS to_id
ORDER BY type, from_label, to_label, from_id, to_id
RETURN type, from_label, to_label, count(*) AS relationships, collect(from_id + ' -> ' + to_id)[..5] AS examples
ORDER BY relationships DESC, type, from_label, to_label
