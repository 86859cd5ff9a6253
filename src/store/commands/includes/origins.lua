--- @include "builtins"
--- @include "keys"
-- The origin table (docs/wire-format.md): a leaf names its origin node by a 3-byte id instead of
-- the node id itself. One hash holds both directions: node id → id, and "\0" .. id → node id (no
-- node id starts with a NUL byte); its field "\0" counts the ids given out. Ids are never reused,
-- so a leaf's id means the same node for as long as the store exists. Cached per script.
local ORIGIN_COUNTER, ORIGIN_MAX = '\0', 16777215
local origin_ids, origin_names = {}, {}

-- The id of node `name`, given out if it has none; false when all ids are taken (the caller then
-- refuses its whole call before writing anything).
local function origin_id(p, name)
  local id = origin_ids[name]
  if id then return id end
  local table_key = k_origins(p)
  id = redis.call('HGET', table_key, name)
  if not id then
    local n = tonumber(redis.call('HGET', table_key, ORIGIN_COUNTER) or '0') + 1
    if n > ORIGIN_MAX then return false end
    id = spack('>I3', n)
    redis.call('HSET', table_key, ORIGIN_COUNTER, n, name, id, '\0' .. id, name)
  end
  origin_ids[name], origin_names[id] = id, name
  return id
end

-- The node id of origin `id` (3 bytes); an error reply when the table has no such id.
local function origin_name(p, id)
  local name = origin_names[id]
  if name then return name end
  name = redis.call('HGET', k_origins(p), '\0' .. id)
  if not name then error('bad_leaf: origin id ' .. tohex(sunpack('>I3', id), 6) .. ' is not in the origin table') end
  origin_names[id], origin_ids[name] = name, id
  return name
end
