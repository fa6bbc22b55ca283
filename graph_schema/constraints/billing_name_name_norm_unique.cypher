CREATE CONSTRAINT billing_name_name_norm_unique IF NOT EXISTS
FOR (n:BillingName) REQUIRE n.name_norm IS UNIQUE
