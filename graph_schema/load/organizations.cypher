// Organizations from the reference table; their indicators become nodes attribution can reach.
UNWIND range(0, size($rows.org_id) - 1) AS i
WITH {org_id: $rows.org_id[i], name: $rows.name[i], aliases: $rows.aliases[i], email_domains: $rows.email_domains[i], asns: $rows.asns[i], cidrs: $rows.cidrs[i], billing_names: $rows.billing_names[i]} AS row
MERGE (o:Organization {org_id: row.org_id})
SET o.name = row.name, o.aliases = row.aliases, o.email_domains = row.email_domains,
    o.asns = row.asns, o.cidrs = row.cidrs, o.billing_names = row.billing_names
