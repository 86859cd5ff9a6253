--- @include "builtins"
--- @include "keys"
-- The live-key index and the tombstone index. Like the tree's, their changes are collected during
-- a script and written at its end (flush_pending): only a key's last change in the script counts,
-- which is what applying them one by one leaves.
-- live_index: key → true (add) | false (remove); tomb_index: key → score (add) | false (remove).
local live_index, tomb_index = {}, {}
local INDEX_CHUNK = 1000 -- arguments per command: unpack() has a stack limit

-- The live keys are kept in pages (docs/wire-format.md): sorted sets of at most PAGE_MAX keys,
-- small enough for Redis to keep as listpacks (zset-max-listpack-entries, 128 by default) at a
-- few bytes per key instead of ~128 in one big sorted set. Page `first` holds the keys from
-- `first` up to the next page's first key; m:kx lists every page's first key but that of the
-- first page, which is ''. All members of both have score 0: they are ordered by their bytes.
local PAGE_MAX, PAGE_SPLIT_AT, PAGE_HALF, PAGE_MERGE = 128, 112, 64, 24

local function zcall(cmd, zkey, args)
  for i = 1, #args, INDEX_CHUNK do
    redis.call(cmd, zkey, unpack(args, i, math.min(#args, i + INDEX_CHUNK - 1)))
  end
end

-- The first key of the page that holds (or would hold) `key`.
local function page_of(p, key)
  return redis.call('ZRANGE', k_index(p), '[' .. key, '-', 'BYLEX', 'REV', 'LIMIT', 0, 1)[1] or ''
end

-- A page grown to PAGE_SPLIT_AT keys is cut in two, in the server (ZRANGESTORE) while it is still a
-- listpack. One that grew past PAGE_MAX in one script (a run of adjacent keys) is a skiplist, and
-- Redis never turns it back into a listpack: it is rewritten as pages of PAGE_HALF keys.
local function split_page(p, first, n)
  local page = k_page(p, first)
  if n <= PAGE_MAX then
    local half = math.floor(n / 2)
    local next_first = redis.call('ZRANGE', page, half, half)[1]
    redis.call('ZRANGESTORE', k_page(p, next_first), page, half, -1)
    redis.call('ZREMRANGEBYRANK', page, half, -1)
    redis.call('ZADD', k_index(p), 0, next_first)
    return
  end
  local members = redis.call('ZRANGE', page, 0, -1)
  redis.call('DEL', page)
  for from = 1, n, PAGE_HALF do
    local args = {}
    for i = from, math.min(n, from + PAGE_HALF - 1) do args[#args + 1] = 0; args[#args + 1] = members[i] end
    if from == 1 then
      zcall('ZADD', page, args)
    else
      zcall('ZADD', k_page(p, members[from]), args)
      redis.call('ZADD', k_index(p), 0, members[from])
    end
  end
end

-- A page shrunk below PAGE_MERGE joins the page before it (in the server: ZUNIONSTORE) when both
-- fit in PAGE_HALF + PAGE_MERGE; an empty page (Redis removes an empty sorted set) leaves the list.
local function shrink_page(p, first, n)
  if first == '' then return end
  if n == 0 then redis.call('ZREM', k_index(p), first); return end
  local before = redis.call('ZRANGE', k_index(p), '(' .. first, '-', 'BYLEX', 'REV', 'LIMIT', 0, 1)[1] or ''
  local into = k_page(p, before)
  if redis.call('ZCARD', into) + n > PAGE_HALF + PAGE_MERGE then return end
  redis.call('ZUNIONSTORE', into, 2, into, k_page(p, first))
  redis.call('DEL', k_page(p, first))
  redis.call('ZREM', k_index(p), first)
end

local function index_flush(p)
  -- The changed keys grouped by page: one ZADD and one ZREM per page touched.
  local adds, removals = {}, {}
  for key, add in pairs(live_index) do
    local first = page_of(p, key)
    local group = add and adds or removals
    local keys = group[first]
    if keys then keys[#keys + 1] = key else group[first] = { key } end
  end
  live_index = {}
  local delta = 0
  local touched = {}
  for first, keys in pairs(adds) do
    local args = {}
    for i = 1, #keys do args[2 * i - 1] = 0; args[2 * i] = keys[i] end
    for i = 1, #args, INDEX_CHUNK do
      delta = delta + redis.call('ZADD', k_page(p, first), unpack(args, i, math.min(#args, i + INDEX_CHUNK - 1)))
    end
    touched[first] = true
  end
  for first, keys in pairs(removals) do
    for i = 1, #keys, INDEX_CHUNK do
      delta = delta - redis.call('ZREM', k_page(p, first), unpack(keys, i, math.min(#keys, i + INDEX_CHUNK - 1)))
    end
    touched[first] = true
  end
  for first in pairs(touched) do
    local n = redis.call('ZCARD', k_page(p, first))
    if n >= PAGE_SPLIT_AT then split_page(p, first, n) elseif n < PAGE_MERGE then shrink_page(p, first, n) end
  end
  if delta ~= 0 then redis.call('HINCRBY', k_meta(p), 'live', delta) end

  local tomb_add, tomb_rem = {}, {}
  for key, score in pairs(tomb_index) do
    if score then tomb_add[#tomb_add + 1] = score; tomb_add[#tomb_add + 1] = key else tomb_rem[#tomb_rem + 1] = key end
  end
  tomb_index = {}
  -- INDEX_CHUNK is even, so a ZADD chunk never splits a score from its member.
  zcall('ZADD', k_tombs(p), tomb_add)
  zcall('ZREM', k_tombs(p), tomb_rem)
end
