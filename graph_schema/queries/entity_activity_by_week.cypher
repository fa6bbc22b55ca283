// Entity dossier, activity: exchanges per ISO week (Monday) with how many of them were coding,
// reasoning, tool-use and chain-of-thought requests (a request may be in several categories),
// and the number of active accounts, summed over the entity's accounts. A distillation wave
// shows as a sudden plateau of narrow-task traffic; a class or hackathon as a short spike.
// Reads the per-account weekly arrays the loader writes from the features stage's weekly_activity
// (docs/graph-needs.md): week_starts, week_n, week_coding, week_reasoning, week_tool_use, week_cot.
// Parameters: $entity_id
//   :param entity_id => 'ent-000001'
MATCH (:Entity {entity_id: $entity_id})<-[:RESOLVED_TO]-(a:Account)
WHERE a.week_starts IS NOT NULL
UNWIND range(0, size(a.week_starts) - 1) AS i
WITH a, a.week_starts[i] AS week, coalesce(a.week_n[i], 0) AS n,
     coalesce(a.week_coding[i], 0) AS coding, coalesce(a.week_reasoning[i], 0) AS reasoning,
     coalesce(a.week_tool_use[i], 0) AS tool_use, coalesce(a.week_cot[i], 0) AS cot
RETURN week, sum(n) AS exchanges, sum(coding) AS coding, sum(reasoning) AS reasoning,
       sum(tool_use) AS tool_use, sum(cot) AS chain_of_thought, count(DISTINCT a) AS active_accounts
ORDER BY week
