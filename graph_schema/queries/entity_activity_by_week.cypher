// Entity dossier, activity: exchanges per week split by task (coding, reasoning traces, tool
// use, other) and the number of active accounts, summed over the entity's accounts. A
// distillation wave shows as a sudden plateau of narrow-task traffic and a jump to a newly
// released model; a class or hackathon as a short spike.
// Reads the per-account weekly arrays the loader writes (docs/graph-needs.md).
// Parameters: $entity_id
//   :param entity_id => 'ent-000001'
MATCH (:Entity {entity_id: $entity_id})<-[:RESOLVED_TO]-(a:Account)
WHERE a.week_starts IS NOT NULL
UNWIND range(0, size(a.week_starts) - 1) AS i
WITH a, a.week_starts[i] AS week,
     coalesce(a.week_coding[i], 0) AS coding, coalesce(a.week_reasoning[i], 0) AS reasoning,
     coalesce(a.week_tool_use[i], 0) AS tool_use, coalesce(a.week_other[i], 0) AS other
RETURN week, sum(coding) AS coding, sum(reasoning) AS reasoning, sum(tool_use) AS tool_use,
       sum(other) AS other, sum(coding + reasoning + tool_use + other) AS exchanges,
       count(DISTINCT a) AS active_accounts
ORDER BY week
