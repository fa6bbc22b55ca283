UNWIND $rows AS row
MATCH (:Account {account_id: row.account_id})-[r:USED_TEMPLATE]->(:PromptTemplate {template_id: row.template_id})
DELETE r
