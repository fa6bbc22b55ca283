CREATE CONSTRAINT pipeline_run_run_id_unique IF NOT EXISTS
FOR (n:PipelineRun) REQUIRE n.run_id IS UNIQUE
