-- Migrates one branch of a tree format v2 store to v3 (docs/wire-format.md), atomically, and
-- records the progress in the same script, so an interrupted migration resumes where it stopped
-- and a branch is never converted twice. After the last branch: drops the v2 bucket hash and
-- writes the v3 marker.
-- ARGV: prefix, v2 marker, v3 marker, branch index (0-255). Returns the next branch index, or
-- -1 when the store is not (or no longer) a v2 store at that point of its migration.
--- @include "builtins"
--- @include "keys"
--- @include "leaf"
-- A v3 leaf: the leaf digest (20 bytes), then "<hlc> <0|1> <hash> <origin> <content_type> <version>
-- <updated_at> <trace_parent>" (migrate-v3.lua takes it on to v4).
local function leaf_value(digest, hlc, deleted, hash, origin, ctype, version, updated, tp)
  return digest .. hlc .. ' ' .. deleted .. ' ' .. hash .. ' ' .. origin .. ' ' .. ctype .. ' ' .. version .. ' ' ..
    updated .. ' ' .. tp
end

local p, v2, v3, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local meta = k_meta(p)
local PROGRESS = 'migrating_v3' -- META_FIELDS.migration in keys.ts
if redis.call('HGET', meta, 'format') ~= v2 then return -1 end
if tonumber(redis.call('HGET', meta, PROGRESS) or '0') ~= n then return -1 end

local branch = string.format('%02x', n)
local v2_buckets = k_v2_buckets(p)
for i = 0, 255 do
  local bucket = branch .. string.format('%02x', i)
  local lk = k_leaves(p, bucket)
  local flat = redis.call('HGETALL', lk)
  if #flat > 0 then
    local set = {}
    for j = 1, #flat, 2 do
      local key, stamp = flat[j], flat[j + 1]
      -- v2 leaf: "<hlc> <0|1> <hash> <origin>"; v2 record: hash of c h t v u s o p d.
      local hlc, deleted = sub(stamp, 1, 22), sub(stamp, 24, 24)
      local rest = sub(stamp, 26)
      local sp = string.find(rest, ' ', 1, true)
      local hash, origin = sub(rest, 1, sp - 1), sub(rest, sp + 1)
      local rk = k_record(p, key)
      local r = redis.call('HMGET', rk, 'c', 't', 'v', 'u', 'p')
      local ctype, version, updated, tp = r[2] or '', r[3] or '0', r[4] or '0', r[5] or ''
      if deleted == '1' then ctype = '' elseif ctype == '' then ctype = 'binary' end
      redis.call('DEL', rk)
      if deleted == '0' then redis.call('SET', rk, r[1] or '') end
      set[#set + 1] = key
      set[#set + 1] = leaf_value(leaf_digest(key, hlc, origin, hash, deleted), hlc, deleted, hash, origin, ctype, version, updated, tp)
    end
    local digest = redis.call('HGET', v2_buckets, bucket)
    if digest then
      set[#set + 1] = BUCKET_FIELD
      set[#set + 1] = bin_of_hex(digest)
    end
    for j = 1, #set, 500 do redis.call('HSET', lk, unpack(set, j, math.min(#set, j + 499))) end
  end
end
local bd = redis.call('HGET', k_branches(p), branch)
if bd then redis.call('HSET', k_branches(p), branch, bin_of_hex(bd)) end

if n < 255 then
  redis.call('HSET', meta, PROGRESS, n + 1)
  return n + 1
end
redis.call('DEL', v2_buckets)
redis.call('HDEL', meta, PROGRESS)
redis.call('HSET', meta, 'format', v3)
return 256
