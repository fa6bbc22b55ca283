// Set before writing (a "loading:" token: an interrupted load leaves a marker no snapshot
// matches, so the next run loads in full) and after (the frames now in the graph).
MERGE (m:GraphLoad {name: $name})
SET m.frames_token = $frames_token, m.format = $format
