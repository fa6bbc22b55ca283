// Attribution step 4: forget last run's scratch scores. CANDIDATE_ORG holds, per entity and
// organization, the log-odds this run found (kept after the run so an analyst can see which
// organizations were considered and why the winner won). Never touches analyst decisions.
// Parameters: none
MATCH ()-[c:CANDIDATE_ORG]->()
DELETE c
RETURN count(*) AS cleared_candidates
