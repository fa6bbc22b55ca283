// Prompt templates found by MinHash/LSH over masked prompts; n_accounts is their rarity.
UNWIND $rows AS row
MERGE (t:PromptTemplate {template_id: row.template_id})
SET t.example = row.example, t.task = row.task, t.n_accounts = row.n_accounts, t.n_exchanges = row.n_exchanges
