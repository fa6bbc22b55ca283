// The load marker: which frames (content hash) and which load format the graph holds.
MATCH (m:GraphLoad {name: $name})
RETURN m.frames_token AS frames_token, m.format AS format
