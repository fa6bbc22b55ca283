UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i], template_id: $rows.template_id[i]} AS row
MATCH (:Account {account_id: row.account_id})-[r:USED_TEMPLATE]->(:PromptTemplate {template_id: row.template_id})
DELETE r
