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

-- A page grown to PAGE_SPLIT_AT keys is cut in two inside the server (ZRANGESTORE), still a
-- listpack. One that grew past PAGE_MAX in one script (a run of adjacent keys) is a skiplist, which
-- Redis never turns back into a listpack: it is cut into new pages of PAGE_HALF keys, the first
-- rebuilt under a scratch name and renamed, all inside the server.
local function split_page(p, first, n)
  local page = k_page(p, first)
  local parts = n <= PAGE_MAX and 2 or math.ceil(n / PAGE_HALF)
  local size = math.ceil(n / parts)
  for c = 1, parts - 1 do
    local start = c * size
    local next_first = redis.call('ZRANGE', page, start, start)[1]
    redis.call('ZRANGESTORE', k_page(p, next_first), page, start, start + size - 1)
    redis.call('ZADD', k_index(p), 0, next_first)
  end
  if n <= PAGE_MAX then
    redis.call('ZREMRANGEBYRANK', page, size, -1)
  else
    redis.call('ZRANGESTORE', k_page_scratch(p), page, 0, size - 1)
    redis.call('RENAME', k_page_scratch(p), page)
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

-- The script's keys in byte order (from the caller: commands/key-order.ts), if it gave them.
local key_order = false
local function set_key_order(keys) key_order = keys end

-- `keys` (by position) in the order `order` gives: 2-byte positions from 1 (commands/key-order.ts),
-- taken apart in one struct.unpack call per 1,000.
local function keys_in_order(keys, order)
  local out = {}
  local n = #order / 2
  for first = 1, n, 1000 do
    local count = math.min(1000, n - first + 1)
    local positions = { sunpack('>' .. string.rep('I2', count), order, 2 * first - 1) }
    for i = 1, count do out[#out + 1] = keys[positions[i]] end
  end
  return out
end

-- Adds `keys`, sorted in byte order, to `groups` (page → its keys) by bisection: when the first and
-- the last key of a stretch fall in the same page, so does every key between them. A run of
-- adjacent keys (the common case: sequential ids) costs two lookups, scattered keys one each.
local function group_sorted(p, keys, groups)
  local pages = {}
  local function at(i)
    if not pages[i] then pages[i] = page_of(p, keys[i]) end
    return pages[i]
  end
  local function fill(i, j)
    if j - i < 2 then return end
    if at(i) == at(j) then
      for k = i + 1, j - 1 do pages[k] = pages[i] end
      return
    end
    local m = math.floor((i + j) / 2)
    at(m)
    fill(i, m)
    fill(m, j)
  end
  if #keys == 0 then return end
  at(1)
  at(#keys)
  fill(1, #keys)
  for i = 1, #keys do
    local list = groups[pages[i]]
    if list then list[#list + 1] = keys[i] else groups[pages[i]] = { keys[i] } end
  end
end

local function index_flush(p)
  -- The keys whose liveness changed, in byte order when the script gave it; any other (a script
  -- that gave none) looked up one by one.
  local adds, removals, groups_add, groups_rem = {}, {}, {}, {}
  if key_order then
    for _, key in ipairs(key_order) do
      local live = live_index[key]
      if live ~= nil then
        if live then adds[#adds + 1] = key else removals[#removals + 1] = key end
        live_index[key] = nil
      end
    end
  end
  for key, live in pairs(live_index) do
    local group = live and groups_add or groups_rem
    local first = page_of(p, key)
    local list = group[first]
    if list then list[#list + 1] = key else group[first] = { key } end
  end
  live_index, key_order = {}, false
  group_sorted(p, adds, groups_add)
  group_sorted(p, removals, groups_rem)
  local delta = 0
  local touched = {}
  -- Removals first: a page then never holds more keys during the script than at its end, so one that
  -- ends at most PAGE_MAX was never past it (Redis would have made it a skiplist, for good).
  for first, keys in pairs(groups_rem) do
    for i = 1, #keys, INDEX_CHUNK do
      delta = delta - redis.call('ZREM', k_page(p, first), unpack(keys, i, math.min(#keys, i + INDEX_CHUNK - 1)))
    end
    touched[first] = true
  end
  for first, keys in pairs(groups_add) do
    local args = {}
    for i = 1, #keys do args[2 * i - 1] = 0; args[2 * i] = keys[i] end
    for i = 1, #args, INDEX_CHUNK do
      delta = delta + redis.call('ZADD', k_page(p, first), unpack(args, i, math.min(#args, i + INDEX_CHUNK - 1)))
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
