UNWIND $rows AS row
MATCH (n:PromptTemplate {template_id: row.template_id})
DETACH DELETE n
