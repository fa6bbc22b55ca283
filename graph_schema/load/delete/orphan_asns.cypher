// ASNs exist only through a subnet or an organization that names them: one neither points
// at any more (after deletes) would not exist in a fresh load, so it goes.
MATCH (n:ASN)
WHERE NOT (n)--()
DELETE n
