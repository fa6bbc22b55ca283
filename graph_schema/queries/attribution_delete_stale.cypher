// Attribution step 9: relationships derived by an earlier attribution run and not re-derived
// by this one are stale and removed (an attribution that lost its evidence disappears rather
// than lingering). Analyst decisions (CONFIRMED_ORG, NOT_ORG, SAME_OPERATOR,
// NOT_SAME_OPERATOR) are different types and never touched.
// Parameters: $updated_at
//   :param updated_at => datetime()
MATCH ()-[r:ATTRIBUTED_TO|IN_ORG_NETWORK|SIMILAR_BILLING_NAME|DECLARED_ORG_MATCHES]->()
WHERE r.updated_at IS NULL OR r.updated_at <> $updated_at
DELETE r
RETURN count(*) AS stale_removed
