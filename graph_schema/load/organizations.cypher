// Organizations from the reference table; their indicators become nodes attribution can reach.
UNWIND $rows AS row
MERGE (o:Organization {org_id: row.org_id})
SET o.name = row.name, o.aliases = row.aliases, o.email_domains = row.email_domains,
    o.asns = row.asns, o.cidrs = row.cidrs, o.billing_names = row.billing_names
