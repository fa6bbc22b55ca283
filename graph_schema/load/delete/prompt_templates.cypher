UNWIND range(0, size($rows.template_id) - 1) AS i
WITH {template_id: $rows.template_id[i]} AS row
MATCH (n:PromptTemplate {template_id: row.template_id})
DETACH DELETE n
