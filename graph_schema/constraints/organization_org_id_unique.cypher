CREATE CONSTRAINT organization_org_id_unique IF NOT EXISTS
FOR (n:Organization) REQUIRE n.org_id IS UNIQUE
