// Every normalised billing name in the graph, with how many accounts use it, for the fuzzy
// comparison with organizations' legal names (done in Python: Cypher has no fuzzy matcher).
// Parameters: none
MATCH (b:BillingName)
RETURN b.name_norm AS name_norm, COUNT { (b)<-[:BILLED_TO]-() } AS n_payment_methods
