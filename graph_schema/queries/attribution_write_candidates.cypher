// Attribution step 8a: every (entity, organization) pair this run found evidence for, with its
// log-odds and the evidence in words, as (:Entity)-[:CANDIDATE_ORG]->(:Organization) (kept
// after the run so an analyst can see which organizations were considered and why the winner
// won; rows from pipelines.scoring.decide_attributions). direct_*: the organization's own
// indicators among the entity's accounts; infra_*: infrastructure shared with attributed
// entities.
// Parameters: $rows = [{entity_id, org_id, direct_logodds, direct_evidence, infra_logodds, infra_evidence}], $updated_at
//   :param rows => [{entity_id: 'ent-camp', org_id: 'org-halcyon', direct_logodds: 9.5, direct_evidence: ['+4.0 email_domain: 1 of the entity\'s 40 accounts (1 in all) - halcyon-research.example: 1 of the 1 accounts with it are here'], infra_logodds: 0.0, infra_evidence: []}]
//   :param updated_at => datetime()
UNWIND $rows AS row
MATCH (e:Entity {entity_id: row.entity_id})
MATCH (o:Organization {org_id: row.org_id})
MERGE (e)-[c:CANDIDATE_ORG]->(o)
SET c.direct_logodds = row.direct_logodds, c.direct_evidence = row.direct_evidence,
    c.infra_logodds = row.infra_logodds, c.infra_evidence = row.infra_evidence, c.updated_at = $updated_at
RETURN count(c) AS candidates
