-- Migrates one branch of a store format v3 store to v4 (docs/wire-format.md), atomically, and
-- records the progress in the same script, so an interrupted migration resumes where it stopped
-- and a branch is never converted twice: each leaf becomes binary (its origin an id of the origin
-- table), a trace parent moves to the end of its record, and each live key moves from the v3
-- sorted set m:keys to the paged index. Digests do not change. After the last branch, m:keys is
-- empty (so gone) and the v4 marker is written.
-- ARGV: prefix, v3 marker, v4 marker, branch index (0-255). Returns the next branch index, or -1
-- when the store is not (or no longer) a v3 store at that point of its migration; an error reply,
-- having changed nothing, when the origin table is full or a leaf is not in v3's format.
--- @include "builtins"
--- @include "keys"
--- @include "record"
local p, v3, v4, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local meta = k_meta(p)
local PROGRESS = 'migrating_v4' -- META_FIELDS.migrationV4 in keys.ts
if redis.call('HGET', meta, 'format') ~= v3 then return -1 end
if tonumber(redis.call('HGET', meta, PROGRESS) or '0') ~= n then return -1 end

-- A v3 leaf: the digest (20 bytes), then "<hlc> <0|1> <hash> <origin> <content_type> <version>
-- <updated_at> <trace_parent>". Parsed fully before anything is written.
local function v3_fields(raw)
  local f = {}
  for field in string.gmatch(sub(raw, 21) .. ' ', '([^ ]*) ') do f[#f + 1] = field end
  local hlc, deleted, hash, origin, version, updated = f[1], f[2], f[3], f[4], tonumber(f[6]), tonumber(f[7])
  if #f ~= 8 or not hlc or #hlc ~= 22 or (deleted ~= '0' and deleted ~= '1') or not version or not updated
    or (deleted == '0' and #hash ~= 64) then
    return false
  end
  return { hlc = hlc, deleted = deleted == '1', hash = hash, origin = origin, binary = f[5] == 'binary', version = version, updated = updated, tp = f[8] }
end

local TRACE = '^(%x%x)%-(%x%x%x%x%x%x%x%x)(%x%x%x%x%x%x%x%x)(%x%x%x%x%x%x%x%x)(%x%x%x%x%x%x%x%x)%-(%x%x%x%x%x%x%x%x)(%x%x%x%x%x%x%x%x)%-(%x%x)$'
local function trace_bin(tp)
  local v, t1, t2, t3, t4, p1, p2, fl = string.match(tp, TRACE)
  if not v then return '' end -- not a valid traceparent: W3C says to ignore it
  return spack('>BI4I4I4I4I4I4B', tonumber(v, 16), tonumber(t1, 16), tonumber(t2, 16), tonumber(t3, 16), tonumber(t4, 16),
    tonumber(p1, 16), tonumber(p2, 16), tonumber(fl, 16))
end

local branch = string.format('%02x', n)
local buckets = {}
for i = 0, 255 do
  local bucket = branch .. string.format('%02x', i)
  local flat = redis.call('HGETALL', k_leaves(p, bucket))
  local parsed = {}
  for j = 1, #flat, 2 do
    local key = flat[j]
    if key ~= BUCKET_FIELD then
      local f = v3_fields(flat[j + 1])
      if not f then return redis.error_reply('bad_leaf: the leaf of key ' .. key .. ' is not in store format v3') end
      f.key = key
      parsed[#parsed + 1] = f
    end
  end
  buckets[#buckets + 1] = { bucket, parsed }
end
for _, b in ipairs(buckets) do
  for _, f in ipairs(b[2]) do
    if not origin_id(p, f.origin) then return redis.error_reply('origin_table_full: no id left for origin ' .. f.origin) end
  end
end

local v3_live = {}
for _, b in ipairs(buckets) do
  local set = {}
  for _, f in ipairs(b[2]) do
    local flags, hash_bin = 0, ''
    if f.deleted then
      flags = FLAG_DELETED
    else
      hash_bin = bin32_of_hex(f.hash)
      if f.binary then flags = FLAG_BINARY end
      local tp = f.tp ~= '' and trace_bin(f.tp) or ''
      if tp ~= '' then
        flags = flags + FLAG_TRACE
        redis.call('APPEND', k_record(p, f.key), tp)
      end
      live_index[f.key] = true
      v3_live[#v3_live + 1] = f.key
    end
    set[#set + 1] = f.key
    set[#set + 1] = origin_id(p, f.origin) .. spack('>B', flags) .. hlc_bin(f.hlc) .. spack('>I7I7', f.version, f.updated) .. hash_bin
  end
  for j = 1, #set, 500 do redis.call('HSET', k_leaves(p, b[1]), unpack(set, j, math.min(#set, j + 499))) end
end
for j = 1, #v3_live, 500 do redis.call('ZREM', k_v3_live(p), unpack(v3_live, j, math.min(#v3_live, j + 499))) end
flush_pending(p)

if n < 255 then
  redis.call('HSET', meta, PROGRESS, n + 1)
  return n + 1
end
redis.call('DEL', k_v3_live(p)) -- empty by now, unless a key was in the index without a live leaf
redis.call('HDEL', meta, PROGRESS)
redis.call('HSET', meta, 'format', v4)
return 256
