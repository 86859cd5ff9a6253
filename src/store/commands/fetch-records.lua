-- Reads records (live or tombstone) whole, in one atomic step: a write between reading a leaf and
-- reading its content cannot pair one version's content with another's stamp.
-- ARGV: prefix, then keys. Returns per key three values: the leaf as stored (or nil: no record),
-- the origin's node id (the leaf names it by id: includes/origins.lua), and the record's value
-- (content, then the trace parent's 26 bytes when the leaf's flag says so; nil for a tombstone).
--- @flags no-writes
--- @include "keys"
--- @include "leaf"
local p = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local key = ARGV[i]
  local leaf = redis.call('HGET', k_leaves(p, bucket_of(key)), key)
  local name, value = false, false
  if leaf then
    name = origin_name(p, sub(leaf, 1, 3))
    if not leaf_is_deleted(leaf) then value = redis.call('GET', k_record(p, key)) end
  end
  out[#out + 1] = leaf
  out[#out + 1] = name
  out[#out + 1] = value
end
return out
