// Full load onto a graph that does not carry the matching load marker: every relationship
// the load derives goes first (analyst decisions and the attribution's own relationships
// are other types and stay), then the nodes below; the load then writes the frames afresh.
MATCH ()-[r:OWNS_ASN|USES_DOMAIN|IN_ASN|IN_SUBNET|USED_IP|HAS_EMAIL_DOMAIN|HAS_PAYMENT_METHOD|USES_CARD|HAS_BIN|BILLED_TO|USED_CLIENT|USED_TEMPLATE|RESOLVED_TO|LINKED]->()
CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS
