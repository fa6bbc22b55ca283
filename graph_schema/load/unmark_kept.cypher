// Full load, after wipe_nodes: the accounts still there are kept for an analyst decision; they
// are part of this load only if its rows write them again (which sets load_token anew).
MATCH (n:Account)
WHERE n.load_token IS NOT NULL
REMOVE n.load_token
