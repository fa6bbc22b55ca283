CREATE CONSTRAINT payment_method_payment_method_id_unique IF NOT EXISTS
FOR (n:PaymentMethod) REQUIRE n.payment_method_id IS UNIQUE
