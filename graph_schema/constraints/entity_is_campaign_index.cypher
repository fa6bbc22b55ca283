CREATE INDEX entity_is_campaign_index IF NOT EXISTS
FOR (n:Entity) ON (n.is_campaign)
