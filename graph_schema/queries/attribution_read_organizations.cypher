// The organizations reference data as loaded (raw ';'-separated indicator lists).
// Parameters: none
MATCH (o:Organization)
RETURN o.org_id AS org_id, o.name AS name, o.aliases AS aliases, o.email_domains AS email_domains,
       o.asns AS asns, o.cidrs AS cidrs, o.billing_names AS billing_names
ORDER BY org_id
