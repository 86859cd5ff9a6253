-- Shared by every store script: the loader (commands/index.ts) prepends this file.
-- Key names mirror src/store/keys.ts. Scripts take no KEYS: every name is derived from
-- the node's prefix (ARGV[1]), so the store needs a standalone Redis (not Cluster).


local function k_record(p, key) return p .. 'r:' .. key end
local function k_meta(p) return p .. 'm:meta' end
local function k_live(p) return p .. 'm:keys' end
local function k_tombs(p) return p .. 'm:tombs' end
local function k_branches(p) return p .. 't:br' end
local function k_buckets(p) return p .. 't:bk' end
local function k_leaves(p, bucket) return p .. 't:lf:' .. bucket end
local function k_stream(p) return p .. 'cdc' end

-- Digests are 40 hex digits (SHA-1). The tree code XORs them as five 32-bit words: each
-- digest is parsed once and each written node formatted once, instead of a hex-string XOR
-- (10 substrings, 10 tonumber, 5 tohex) at every step.
local tonumber, sub, bxor, tohex, unpack = tonumber, string.sub, bit.bxor, bit.tohex, unpack

local function words_of(hex)
  return tonumber(sub(hex, 1, 8), 16), tonumber(sub(hex, 9, 16), 16), tonumber(sub(hex, 17, 24), 16),
    tonumber(sub(hex, 25, 32), 16), tonumber(sub(hex, 33, 40), 16)
end

-- bit.tohex normalises its argument to 32 bits, so unnormalised words (tonumber > 2^31) format right.
local function hex_of(w)
  return tohex(w[1], 8) .. tohex(w[2], 8) .. tohex(w[3], 8) .. tohex(w[4], 8) .. tohex(w[5], 8)
end

local function is_zero(w)
  return w[1] == 0 and w[2] == 0 and w[3] == 0 and w[4] == 0 and w[5] == 0
end

-- w := w XOR the digest `hex` (or XOR the words of table `o`).
local function xor_into(w, hex)
  local a, b, c, d, e = words_of(hex)
  w[1], w[2], w[3], w[4], w[5] = bxor(w[1], a), bxor(w[2], b), bxor(w[3], c), bxor(w[4], d), bxor(w[5], e)
end

local function xor_words(w, o)
  w[1], w[2], w[3], w[4], w[5] = bxor(w[1], o[1]), bxor(w[2], o[2]), bxor(w[3], o[3]), bxor(w[4], o[4]), bxor(w[5], o[5])
end

-- Byte order, not the locale's collation (Redis sets LC_COLLATE from the environment).
local function bytes_lt(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- Last-writer-wins order on (hlc, origin): -1, 0 or 1.
local function compare_stamps(h1, o1, h2, o2)
  if h1 ~= h2 then
    if bytes_lt(h1, h2) then return -1 else return 1 end
  end
  if o1 ~= o2 then
    if bytes_lt(o1, o2) then return -1 else return 1 end
  end
  return 0
end

local function bucket_of(key)
  return string.sub(redis.sha1hex(key), 1, 4)
end

-- Leaf stamp as stored in the leaves hash: "<hlc> <0|1> <hash> <origin>" (hash empty for tombstones).
local function leaf_value(hlc, deleted, hash, origin)
  return hlc .. ' ' .. deleted .. ' ' .. hash .. ' ' .. origin
end

local function parse_leaf(raw)
  local hlc = string.sub(raw, 1, 22)
  local deleted = string.sub(raw, 24, 24)
  local rest = string.sub(raw, 26)
  local sp = string.find(rest, ' ', 1, true)
  return hlc, deleted, string.sub(rest, 1, sp - 1), string.sub(rest, sp + 1)
end

-- Must equal leafDigest() in src/merkle/tree-shape.ts.
local function leaf_digest(key, hlc, origin, hash, deleted)
  return redis.sha1hex(#key .. ':' .. key .. '|' .. hlc .. '|' .. origin .. '|' .. hash .. '|' .. deleted)
end

-- Tree deltas accumulate per bucket during a script (five words each) and are written once
-- at the end: one HMGET and one HSET on the buckets hash, one of each on the branches hash,
-- one for the root. (Per bucket and per branch HGET + HSET, as this once did, was a third of a
-- batch apply's time; one bucket hash per branch, as it did next, still cost two calls per
-- touched branch on hashes large enough to be slow listpacks: ~6 µs per applied change.)
local pending = {}
local function tree_change(bucket, digest)
  local w = pending[bucket]
  if w then xor_into(w, digest) else pending[bucket] = { words_of(digest) } end
end

-- Reads the fields of hash `key` named in `names`, XORs each with its delta, writes the
-- non-zero results and deletes the zero ones (an all-zero node is the same as an absent one).
-- In slices of TREE_CHUNK fields: unpack() has a stack limit.
local TREE_CHUNK = 500
local function xor_hash_fields(key, names, deltas)
  for first = 1, #names, TREE_CHUNK do
    local last = math.min(#names, first + TREE_CHUNK - 1)
    local olds = redis.call('HMGET', key, unpack(names, first, last))
    local set, del = {}, {}
    for i = first, last do
      local w = deltas[i]
      local old = olds[i - first + 1]
      if old then xor_into(w, old) end
      if is_zero(w) then del[#del + 1] = names[i] else set[#set + 1] = names[i]; set[#set + 1] = hex_of(w) end
    end
    if #set > 0 then redis.call('HSET', key, unpack(set)) end
    if #del > 0 then redis.call('HDEL', key, unpack(del)) end
  end
end

local function tree_flush(p)
  local buckets = pending
  pending = {}
  -- Every touched bucket in one HMGET + HSET on the buckets hash, then every touched branch in
  -- one on the branches hash, then the root.
  local bucket_names, bucket_deltas = {}, {}
  local branch_sums = {}
  for bucket, delta in pairs(buckets) do
    if not is_zero(delta) then
      local branch = sub(bucket, 1, 2)
      local sum = branch_sums[branch]
      if not sum then
        sum = { 0, 0, 0, 0, 0 }
        branch_sums[branch] = sum
      end
      xor_words(sum, delta) -- before xor_hash_fields reuses `delta` for the bucket's new value
      bucket_names[#bucket_names + 1] = bucket
      bucket_deltas[#bucket_deltas + 1] = delta
    end
  end
  if #bucket_names > 0 then xor_hash_fields(k_buckets(p), bucket_names, bucket_deltas) end
  local branch_names, branch_deltas = {}, {}
  local root = { 0, 0, 0, 0, 0 }
  for branch, sum in pairs(branch_sums) do
    if not is_zero(sum) then
      branch_names[#branch_names + 1] = branch
      branch_deltas[#branch_deltas + 1] = sum
      xor_words(root, sum)
    end
  end
  if #branch_names > 0 then xor_hash_fields(k_branches(p), branch_names, branch_deltas) end
  if not is_zero(root) then
    local meta = k_meta(p)
    local old = redis.call('HGET', meta, 'root')
    if old then xor_into(root, old) end
    redis.call('HSET', meta, 'root', hex_of(root))
  end
end

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

-- Meta JSON in the wire order (docs/wire-format.md). Every interpolated value is validated
-- by the TypeScript caller (enum, digits, hex, node-id charset): nothing needs escaping.
local function put_meta(ctype, version, updated, tp, hlc, origin)
  local trace = ''
  if tp ~= '' then trace = ',"trace_parent":"' .. tp .. '"' end
  return '{"content_type":"' .. ctype .. '","version":' .. version .. ',"updated_at":' .. updated .. trace ..
    ',"hlc":"' .. hlc .. '","origin":"' .. origin .. '"}'
end

local function del_meta(hlc, origin, updated)
  return '{"hlc":"' .. hlc .. '","origin":"' .. origin .. '","updated_at":' .. updated .. '}'
end

-- maxlen false: no trimming here (a batch trims once, at its end: see apply.lua).
local function emit(p, maxlen, op, key, hash, wire, meta)
  if maxlen then
    if op == 'PUT' then
      redis.call('XADD', k_stream(p), 'MAXLEN', '~', maxlen, '*', 'op', 'PUT', 'key', key, 'hash', hash, 'data', wire, 'meta', meta)
    else
      redis.call('XADD', k_stream(p), 'MAXLEN', '~', maxlen, '*', 'op', 'DEL', 'key', key, 'meta', meta)
    end
  elseif op == 'PUT' then
    redis.call('XADD', k_stream(p), '*', 'op', 'PUT', 'key', key, 'hash', hash, 'data', wire, 'meta', meta)
  else
    redis.call('XADD', k_stream(p), '*', 'op', 'DEL', 'key', key, 'meta', meta)
  end
end

-- Writes one winning change: record (or tombstone), leaf, indexes and the pending tree delta.
-- old_raw is the key's current leaf value or false.
local function store_change(p, key, bucket, old_raw, op, hlc, origin, content, hash, ctype, version, updated, tp)
  local deleted = '0'
  if op == 'DEL' then
    deleted = '1'; content = ''; hash = ''; ctype = ''
  end
  redis.call('HSET', k_record(p, key), 'c', content, 'h', hash, 't', ctype, 'v', version, 'u', updated,
    's', hlc, 'o', origin, 'p', tp, 'd', deleted)
  redis.call('HSET', k_leaves(p, bucket), key, leaf_value(hlc, deleted, hash, origin))
  tree_change(bucket, leaf_digest(key, hlc, origin, hash, deleted))
  local was_live = false
  local was_deleted = false
  if old_raw then
    local oh, od, ohash, oo = parse_leaf(old_raw)
    tree_change(bucket, leaf_digest(key, oh, oo, ohash, od))
    was_live = od == '0'
    was_deleted = od == '1'
  end
  if deleted == '1' then
    if was_live then live_index[key] = false end
    tomb_index[key] = tonumber(string.sub(hlc, 1, 16))
  else
    if not was_live then live_index[key] = true end
    if was_deleted then tomb_index[key] = false end
  end
end

local function format_hlc(physical, logical)
  return string.format('%016d-%05d', physical, logical)
end

-- max(last, now) + tick, as nextHlc() in src/model/hlc.ts.
local function next_hlc(last, now)
  if not last then return format_hlc(now, 0) end
  local physical = tonumber(string.sub(last, 1, 16))
  local logical = tonumber(string.sub(last, 18, 22))
  if now > physical then return format_hlc(now, 0) end
  if logical < 99999 then return format_hlc(physical, logical + 1) end
  return format_hlc(physical + 1, 0)
end
