-- Reads the leaves of whole buckets (the cold path's last drill-down level), without writing.
-- ARGV: prefix, then buckets (4 hex digits each). Returns one array per bucket, its keys and
-- leaves as stored, alternating (the bucket's digest field left out), then one more array: the
-- origin ids those leaves name and their node ids, alternating (includes/origins.lua).
--- @flags no-writes
--- @include "keys"
--- @include "origins"
local p = ARGV[1]
local out, seen, names = {}, {}, {}
for i = 2, #ARGV do
  local flat = redis.call('HGETALL', k_leaves(p, ARGV[i]))
  local leaves = {}
  for j = 1, #flat, 2 do
    if flat[j] ~= BUCKET_FIELD then
      leaves[#leaves + 1] = flat[j]
      leaves[#leaves + 1] = flat[j + 1]
      local id = sub(flat[j + 1], 1, 3)
      if not seen[id] then
        seen[id] = true
        names[#names + 1] = id
        names[#names + 1] = origin_name(p, id)
      end
    end
  end
  out[#out + 1] = leaves
end
out[#out + 1] = names
return out
