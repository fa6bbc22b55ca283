CREATE CONSTRAINT prompt_template_template_id_unique IF NOT EXISTS
FOR (n:PromptTemplate) REQUIRE n.template_id IS UNIQUE
