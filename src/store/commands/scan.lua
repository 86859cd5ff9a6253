-- Lists live keys in byte order from the paged live-key index (includes/indexes.lua), without writing.
-- ARGV: prefix, min (a ZRANGE BYLEX bound: "[" or "(" then a key), max (the same, exclusive: the
-- end of the listed range), end_key (max without its bracket), limit. Returns up to limit keys in
-- [min, max). Pages are visited in order from the one that holds min's key; the walk stops at the
-- first page that starts at or after end_key.
--- @flags no-writes
--- @include "keys"
--- @include "stamps"
local p, min, max, end_key, limit = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local first = redis.call('ZRANGE', k_index(p), '[' .. sub(min, 2), '-', 'BYLEX', 'REV', 'LIMIT', 0, 1)[1] or ''
local out = {}
while true do
  local got = redis.call('ZRANGE', k_page(p, first), min, max, 'BYLEX', 'LIMIT', 0, limit - #out)
  for i = 1, #got do out[#out + 1] = got[i] end
  if #out >= limit then break end
  first = redis.call('ZRANGE', k_index(p), '(' .. first, '+', 'BYLEX', 'LIMIT', 0, 1)[1]
  if not first or not bytes_lt(first, end_key) then break end
end
return out
