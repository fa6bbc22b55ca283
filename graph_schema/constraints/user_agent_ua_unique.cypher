CREATE CONSTRAINT user_agent_ua_unique IF NOT EXISTS
FOR (n:UserAgent) REQUIRE n.ua IS UNIQUE
