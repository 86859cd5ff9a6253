-- Shared by every store script: the loader (commands/index.ts) prepends this file.
-- Key names mirror src/store/keys.ts. Scripts take no KEYS: every name is derived from
-- the node's prefix (ARGV[1]), so the store needs a standalone Redis (not Cluster).


local function k_record(p, key) return p .. 'r:' .. key end
local function k_meta(p) return p .. 'm:meta' end
local function k_live(p) return p .. 'm:keys' end
local function k_tombs(p) return p .. 'm:tombs' end
local function k_branches(p) return p .. 't:br' end
local function k_leaves(p, bucket) return p .. 't:lf:' .. bucket end
local function k_stream(p) return p .. 'cdc' end
local function k_v2_buckets(p) return p .. 't:bk' end -- tree format v2 only (migrate-v2.lua)

-- Digests are SHA-1 (20 bytes). Leaf, bucket and branch digests are stored as the raw 20 bytes
-- and combined as five 32-bit words with struct.unpack / struct.pack (one C call each) rather
-- than parsed from and formatted to hex; the root, one per script and read by operators, as 40
-- hex digits.
local tonumber, sub, byte, bxor, tohex, unpack = tonumber, string.sub, string.byte, bit.bxor, bit.tohex, unpack
local spack, sunpack = struct.pack, struct.unpack
local WORDS = '>i4i4i4i4i4'
local BUCKET_FIELD = '' -- a bucket's digest, in its leaves hash (no user key is empty)

local function words_of(hex)
  return tonumber(sub(hex, 1, 8), 16), tonumber(sub(hex, 9, 16), 16), tonumber(sub(hex, 17, 24), 16),
    tonumber(sub(hex, 25, 32), 16), tonumber(sub(hex, 33, 40), 16)
end

-- bit.tohex normalises its argument to 32 bits, so unnormalised words (tonumber > 2^31) format right.
local function hex_of(w)
  return tohex(w[1], 8) .. tohex(w[2], 8) .. tohex(w[3], 8) .. tohex(w[4], 8) .. tohex(w[5], 8)
end

local function bin_of_hex(hex)
  return spack(WORDS, words_of(hex))
end

local function is_zero(w)
  return w[1] == 0 and w[2] == 0 and w[3] == 0 and w[4] == 0 and w[5] == 0
end

-- w := w XOR the hex digest `hex` (or XOR the words of table `o`).
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
  return sub(redis.sha1hex(key), 1, 4)
end

-- A leaf as stored in its bucket's leaves hash: the leaf digest (20 bytes), then the stamp and
-- the record's metadata, space-separated (none can contain a space: the callers validate them):
-- "<hlc> <0|1> <hash> <origin> <content_type> <version> <updated_at> <trace_parent>" (hash and
-- content_type empty for a tombstone, trace_parent empty when unset). Keeping the digest spares
-- re-hashing the old stamp when a key is overwritten; keeping the metadata here leaves the record
-- key holding only the content (one SET instead of a 9-field HSET per change).
local function leaf_value(digest, hlc, deleted, hash, origin, ctype, version, updated, tp)
  return digest .. hlc .. ' ' .. deleted .. ' ' .. hash .. ' ' .. origin .. ' ' .. ctype .. ' ' .. version .. ' ' ..
    updated .. ' ' .. tp
end

-- The fixed positions in a leaf: the hlc (22 bytes) after the 20-byte digest, then ' ', the
-- <0|1> deleted flag, ' ', and the hash (64 hex digits for a live record, empty for a tombstone).
local LEAF_HLC_FIRST, LEAF_HLC_LAST, LEAF_DELETED_AT, LEAF_HASH_FIRST = 21, 42, 44, 46
local LEAF_HLC_MS_LAST = LEAF_HLC_FIRST + 15 -- the hlc's 16 digits of physical time
local BYTE_ONE = 49 -- '1'

-- The stamp's fields, then the position of the space after the origin.
local function parse_leaf(raw)
  local e1 = string.find(raw, ' ', LEAF_HASH_FIRST, true)
  local e2 = string.find(raw, ' ', e1 + 1, true)
  return sub(raw, LEAF_HLC_FIRST, LEAF_HLC_LAST), sub(raw, LEAF_DELETED_AT, LEAF_DELETED_AT),
    sub(raw, LEAF_HASH_FIRST, e1 - 1), sub(raw, e1 + 1, e2 - 1), e2
end

-- Single fields, read without making a string for each of the others (Lua interns every string
-- it makes: an allocation and a hash each, on the path of every replicated change).
local function leaf_is_deleted(raw) return byte(raw, LEAF_DELETED_AT) == BYTE_ONE end
local function live_leaf_hash(raw) return sub(raw, LEAF_HASH_FIRST, LEAF_HASH_FIRST + 63) end
local function leaf_ms(raw) return tonumber(sub(raw, LEAF_HLC_FIRST, LEAF_HLC_MS_LAST)) end

-- First and last position of a leaf's version field (after the origin and the content type).
local function version_span(raw)
  local _, _, _, _, after_origin = parse_leaf(raw)
  local after_type = string.find(raw, ' ', after_origin + 1, true)
  local after_version = string.find(raw, ' ', after_type + 1, true)
  return after_type + 1, after_version - 1
end

-- The record's version kept in a leaf (it outlives the content: a DEL keeps it, a later PUT counts on).
local function leaf_version(raw)
  return sub(raw, version_span(raw))
end

-- The leaf with another version.
local function with_version(raw, version)
  local first, last = version_span(raw)
  return sub(raw, 1, first - 1) .. version .. sub(raw, last + 1)
end

-- Must equal leafDigest() in src/merkle/tree-shape.ts (there as hex, here as 20 bytes).
local function leaf_digest(key, hlc, origin, hash, deleted)
  return bin_of_hex(redis.sha1hex(#key .. ':' .. key .. '|' .. hlc .. '|' .. origin .. '|' .. hash .. '|' .. deleted))
end

-- Branch deltas accumulate during a script (five words per touched branch) and are written once
-- at the end: one HMGET and one HSET on the branches hash, one HGET and HSET for the root.
local branch_pending = {}
local function branch_change(bucket, a, b, c, d, e)
  local branch = sub(bucket, 1, 2)
  local w = branch_pending[branch]
  if w then
    w[1], w[2], w[3], w[4], w[5] = bxor(w[1], a), bxor(w[2], b), bxor(w[3], c), bxor(w[4], d), bxor(w[5], e)
  else
    branch_pending[branch] = { a, b, c, d, e }
  end
end

-- Replaces leaf `key` of a bucket (old_raw: its current value or false; new_raw: false to remove
-- it) and updates the bucket's digest in the same HSET: the digest lives in the leaves hash, so a
-- change costs one read (the caller's HMGET of key + digest) and one write for leaf and bucket
-- together. old_bucket is the bucket's current digest (20 bytes) or false.
local function leaf_replace(leaves, bucket, key, old_raw, old_bucket, new_raw)
  local a, b, c, d, e = 0, 0, 0, 0, 0
  if new_raw then a, b, c, d, e = sunpack(WORDS, new_raw) end
  if old_raw then
    local o1, o2, o3, o4, o5 = sunpack(WORDS, old_raw)
    a, b, c, d, e = bxor(a, o1), bxor(b, o2), bxor(c, o3), bxor(d, o4), bxor(e, o5)
  end
  branch_change(bucket, a, b, c, d, e)
  if old_bucket then
    local o1, o2, o3, o4, o5 = sunpack(WORDS, old_bucket)
    a, b, c, d, e = bxor(a, o1), bxor(b, o2), bxor(c, o3), bxor(d, o4), bxor(e, o5)
  end
  -- An all-zero digest is the same as an absent one: removed, so an emptied bucket leaves no key.
  local zero = a == 0 and b == 0 and c == 0 and d == 0 and e == 0
  if new_raw then
    if zero then
      redis.call('HSET', leaves, key, new_raw)
      redis.call('HDEL', leaves, BUCKET_FIELD)
    else
      redis.call('HSET', leaves, key, new_raw, BUCKET_FIELD, spack(WORDS, a, b, c, d, e))
    end
  else
    if zero then
      redis.call('HDEL', leaves, key, BUCKET_FIELD)
    else
      redis.call('HDEL', leaves, key)
      redis.call('HSET', leaves, BUCKET_FIELD, spack(WORDS, a, b, c, d, e))
    end
  end
end

-- Reads the binary digests of hash `key` named in `names`, XORs each with its delta, writes the
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
      if old then
        local a, b, c, d, e = sunpack(WORDS, old)
        w[1], w[2], w[3], w[4], w[5] = bxor(w[1], a), bxor(w[2], b), bxor(w[3], c), bxor(w[4], d), bxor(w[5], e)
      end
      if is_zero(w) then del[#del + 1] = names[i] else set[#set + 1] = names[i]; set[#set + 1] = spack(WORDS, w[1], w[2], w[3], w[4], w[5]) end
    end
    if #set > 0 then redis.call('HSET', key, unpack(set)) end
    if #del > 0 then redis.call('HDEL', key, unpack(del)) end
  end
end

-- Writes the branch and root digests the script's leaf changes add up to.
local function tree_flush(p)
  local names, deltas = {}, {}
  local root = { 0, 0, 0, 0, 0 }
  for branch, sum in pairs(branch_pending) do
    if not is_zero(sum) then
      names[#names + 1] = branch
      deltas[#deltas + 1] = sum
      xor_words(root, sum) -- before xor_hash_fields reuses `sum` for the branch's new value
    end
  end
  branch_pending = {}
  if #names > 0 then xor_hash_fields(k_branches(p), names, deltas) end
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

-- Reads a key's leaf and its bucket's digest (one HMGET): leaf value or false, digest or false.
local function leaf_and_bucket(leaves, key)
  local got = redis.call('HMGET', leaves, key, BUCKET_FIELD)
  return got[1], got[2]
end

-- Writes one winning change: the record's content (removed for a tombstone), the leaf `leaf`
-- (as stored: digest, stamp and metadata) and the bucket digest, the indexes and the pending
-- branch delta. leaves is the bucket's leaves key; old_raw / old_bucket are what leaf_and_bucket
-- returned. Whether it is a tombstone, and its time, are read from the leaf.
local function store_change(p, key, bucket, leaves, old_raw, old_bucket, leaf, content)
  local deleted = leaf_is_deleted(leaf)
  if deleted then
    redis.call('DEL', k_record(p, key))
  else
    redis.call('SET', k_record(p, key), content)
  end
  leaf_replace(leaves, bucket, key, old_raw, old_bucket, leaf)
  local was_deleted = old_raw and leaf_is_deleted(old_raw)
  local was_live = old_raw and not was_deleted
  if deleted then
    if was_live then live_index[key] = false end
    tomb_index[key] = leaf_ms(leaf)
  else
    if not was_live then live_index[key] = true end
    if was_deleted then tomb_index[key] = false end
  end
end

-- Stamps' physical part is at most 9999-12-31T23:59:59.999Z (HLC_MAX_PHYSICAL_MS in
-- src/model/hlc.ts): below 2^48, so tonumber, + 1 and %016d are exact in Lua's doubles.
local HLC_MAX_PHYSICAL = 253402300799999

local function format_hlc(physical, logical)
  return string.format('%016d-%05d', physical, logical)
end

-- A wall clock or bound from the caller, checked: arithmetic on it must stay exact.
local function checked_ms(value, name)
  local ms = tonumber(value)
  if not ms or ms < 0 or ms > HLC_MAX_PHYSICAL or ms ~= math.floor(ms) then
    error('invalid ' .. name .. ': not a whole number of ms within the stamp range')
  end
  return ms
end

-- A stored stamp's parts; an out-of-range physical part (a stamp an older version let in) reads
-- as beyond the range, so every comparison with a bound still goes the right way.
local function hlc_parts(h)
  return tonumber(sub(h, 1, 16)), tonumber(sub(h, 18, 22))
end

-- max(last, now) + tick, never beyond `cap` (wall clock + max_future_skew), as nextHlc() in
-- src/model/hlc.ts (the property tests there state the rules).
local function next_hlc(last, now, cap)
  if not last then return format_hlc(now, 0) end
  local physical, logical = hlc_parts(last)
  if now > physical then return format_hlc(now, 0) end
  if physical > cap then return format_hlc(cap, 0) end
  if logical < 99999 then return format_hlc(physical, logical + 1) end
  if physical < cap then return format_hlc(physical + 1, 0) end
  return last
end

-- The least stamp greater than h (successorHlc in src/model/hlc.ts); false past the range.
local function successor_hlc(h)
  local physical, logical = hlc_parts(h)
  if logical < 99999 then
    if physical > HLC_MAX_PHYSICAL then return false end
    return format_hlc(physical, logical + 1)
  end
  if physical + 1 > HLC_MAX_PHYSICAL then return false end
  return format_hlc(physical + 1, 0)
end
