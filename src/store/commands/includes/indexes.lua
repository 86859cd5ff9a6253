--- @include "builtins"
--- @include "keys"
-- Changes to the live-key and tombstone indexes, like the tree's, are collected during a script
-- and written at the end: one ZADD/ZREM per index per script instead of one per change. Only a
-- key's last change in the script counts, which is what applying them one by one leaves.
-- live_index: key → true (add) | false (remove); tomb_index: key → score (add) | false (remove).
local live_index, tomb_index = {}, {}
local INDEX_CHUNK = 1000 -- arguments per command: unpack() has a stack limit

local function zcall(cmd, zkey, args)
  for i = 1, #args, INDEX_CHUNK do
    redis.call(cmd, zkey, unpack(args, i, math.min(#args, i + INDEX_CHUNK - 1)))
  end
end

local function index_flush(p)
  local live_add, live_rem, tomb_add, tomb_rem = {}, {}, {}, {}
  for key, add in pairs(live_index) do
    if add then live_add[#live_add + 1] = 0; live_add[#live_add + 1] = key else live_rem[#live_rem + 1] = key end
  end
  for key, score in pairs(tomb_index) do
    if score then tomb_add[#tomb_add + 1] = score; tomb_add[#tomb_add + 1] = key else tomb_rem[#tomb_rem + 1] = key end
  end
  live_index, tomb_index = {}, {}
  -- INDEX_CHUNK is even, so a ZADD chunk never splits a score from its member.
  zcall('ZADD', k_live(p), live_add)
  zcall('ZREM', k_live(p), live_rem)
  zcall('ZADD', k_tombs(p), tomb_add)
  zcall('ZREM', k_tombs(p), tomb_rem)
end
