CREATE INDEX entity_campaign_score_index IF NOT EXISTS
FOR (n:Entity) ON (n.campaign_score)
