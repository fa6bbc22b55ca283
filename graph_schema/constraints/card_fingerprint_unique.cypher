CREATE CONSTRAINT card_fingerprint_unique IF NOT EXISTS
FOR (n:Card) REQUIRE n.fingerprint IS UNIQUE
