// Attribution step 1: which observed IPv4 addresses lie inside an organization's listed CIDRs.
// Cypher has no CIDR type, so each prefix is turned into an integer range; the address index
// narrows candidates by the prefix's leading octets first. IPv6 prefixes are skipped (the
// organization's ASN still catches them through (:ASN)<-[:OWNS_ASN]-). The same test as
// pipelines.scoring.indicator_hits applies to the stage frames.
// Writes (:IP)-[:IN_ORG_NETWORK {cidr, updated_at}]->(:Organization), one per listed prefix
// holding the address; stale ones are removed by attribution_delete_stale.cypher.
// Parameters: $updated_at (datetime of this attribution run)
//   :param updated_at => datetime()
MATCH (o:Organization)
WHERE o.cidrs IS NOT NULL
UNWIND [c IN split(o.cidrs, ';') WHERE trim(c) CONTAINS '.' | trim(c)] AS cidr
WITH o, cidr, split(split(cidr, '/')[0], '.') AS octets,
     toInteger(coalesce(split(cidr, '/')[1], '32')) AS prefix_len
WHERE size(octets) = 4 AND prefix_len >= 0 AND prefix_len <= 32
WITH o, cidr, prefix_len,
     reduce(n = 0, p IN octets | n * 256 + toInteger(p)) AS base,
     reduce(s = '', p IN octets[0..CASE WHEN prefix_len >= 24 THEN 3 ELSE prefix_len / 8 END] | s + p + '.') AS leading,
     toInteger(2 ^ (32 - prefix_len)) AS block
MATCH (ip:IP)
WHERE ip.address STARTS WITH leading AND NOT ip.address CONTAINS ':'
WITH o, cidr, base, block, ip,
     reduce(n = 0, p IN split(ip.address, '.') | n * 256 + toInteger(p)) AS address
WHERE address / block = base / block
MERGE (ip)-[r:IN_ORG_NETWORK {cidr: cidr}]->(o)
SET r.updated_at = $updated_at
RETURN count(r) AS addresses_in_org_networks
