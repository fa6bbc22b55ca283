// Distinct organization names that accounts declared at sign-up, for the fuzzy comparison
// with organizations' names and aliases.
// Parameters: none
MATCH (a:Account)
WHERE a.declared_org IS NOT NULL AND a.declared_org <> ''
RETURN a.declared_org AS declared_org, count(*) AS n_accounts
