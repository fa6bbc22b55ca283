// Prompt templates found by MinHash/LSH over masked prompts; n_accounts is their rarity.
UNWIND range(0, size($rows.template_id) - 1) AS i
WITH {template_id: $rows.template_id[i], example: $rows.example[i], task: $rows.task[i], n_accounts: $rows.n_accounts[i], n_exchanges: $rows.n_exchanges[i]} AS row
MERGE (t:PromptTemplate {template_id: row.template_id})
SET t.example = row.example, t.task = row.task, t.n_accounts = row.n_accounts, t.n_exchanges = row.n_exchanges
