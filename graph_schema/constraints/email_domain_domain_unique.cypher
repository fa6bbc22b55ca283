CREATE CONSTRAINT email_domain_domain_unique IF NOT EXISTS
FOR (n:EmailDomain) REQUIRE n.domain IS UNIQUE
