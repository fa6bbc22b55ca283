// Nodes the load derives, except those an analyst decision hangs on (they are merged again
// and keep their decisions); the lease and run-history nodes have other labels and stay.
MATCH (n)
WHERE (n:Organization OR n:ASN OR n:EmailDomain OR n:Subnet OR n:IP OR n:Account OR n:Card
       OR n:CardBin OR n:BillingName OR n:PaymentMethod OR n:UserAgent OR n:PromptTemplate OR n:Entity)
  AND NOT (n)-[:SAME_OPERATOR|NOT_SAME_OPERATOR|CONFIRMED_ORG|NOT_ORG]-()
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
