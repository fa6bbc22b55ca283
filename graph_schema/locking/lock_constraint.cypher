CREATE CONSTRAINT pipeline_lock_name_unique IF NOT EXISTS
FOR (l:PipelineLock) REQUIRE l.name IS UNIQUE
