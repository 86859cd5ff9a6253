-- Applies a batch of replicated changes, each atomically with its tree update and re-emit.
-- ARGV: prefix, emit ('1'|'0'), cdc_maxlen, count, max_hlc, changes, now_ms, max_ahead_ms, origins, order
-- origins: the node ids the changes name as their origin, space-separated (no node id has a space).
-- order: the changes' positions (2 bytes each, from 1) in the byte order of their keys
-- (commands/key-order.ts), for the live-key index (includes/indexes.lua).
-- changes packs, per change: the key's bucket (4 hex digits), the new leaf's digest (20 bytes),
-- the index of its origin in `origins` (2 bytes, from 1), then seven fields each preceded by its
-- length (4 bytes, big-endian): leaf, key, content, wire_data, meta, trace, hash
-- (built by commands/apply-args.ts: one argument instead of many per change spares both sides
-- the per-argument work; one struct.unpack takes a change apart).
-- leaf is the new leaf as stored but for its first 3 bytes, the origin id, which only this store
-- knows (includes/leaf.lua; docs/wire-format.md). meta is the JSON to re-emit ('' when emit is off),
-- trace the trace parent's 26 bytes ('' when unset), which the record keeps after its content, and
-- hash the content hash as the re-emitted entry carries it (64 hex digits; '' for a DEL or when
-- emit is off): the leaf has its bytes, but formatting them here would cost ~1 µs per change.
-- The caller computes the digest and the bucket (two SHA-1s per change): they would otherwise be
-- computed here, on the busier core. The script reads only what it decides with: the stamp.
-- A DEL's leaf carries version 0: the script puts in the version of the record it deletes.
-- wire_data is what to re-emit as `data`; '' means "the content itself" (stored uncompressed).
-- max_hlc is the greatest hlc among the changes, computed by the caller: a byte-order comparison
-- per change costs ~1 µs in Lua, a string comparison in JavaScript nothing.
-- A change stamped more than max_ahead_ms ahead of now_ms (store.max_future_skew) is refused, 3:
-- not applied, and it does not move the clock (src/model/future-stamp.ts). The caller leaves such
-- changes out already; this is the store's own check, one comparison per batch when none is.
-- Returns one outcome per change: 1 applied, 0 stale, 2 duplicate, 3 too far ahead; or an error
-- reply, having changed no record, when the origin table is full.
--- @include "stamps"
--- @include "record"
--- @include "cdc"
local p = ARGV[1]
local do_emit = ARGV[2] == '1'
local maxlen = ARGV[3]
local n = tonumber(ARGV[4])
local max_seen = ARGV[5]
local packed = ARGV[6]
local cap = math.min(HLC_MAX_PHYSICAL, checked_ms(ARGV[7], 'now_ms') + checked_ms(ARGV[8], 'max_ahead_ms'))
-- Every origin gets its id before anything is written, so a full table refuses the whole call.
local ids = {}
for name in string.gmatch(ARGV[9], '[^ ]+') do
  local id = origin_id(p, name)
  if not id then return redis.error_reply('origin_table_full: no id left for origin ' .. name) end
  ids[#ids + 1] = id
end
-- Any change beyond the bound? Only then is each change's time read (max_seen is the greatest).
local check_each = n > 0 and not (hlc_parts(max_seen) <= cap)
local max_applied = false
local outcomes = {}
local emitted = false
local CHANGE = '>c4c20I2I4c0I4c0I4c0I4c0I4c0I4c0I4c0'
local at = 1
local keys = {}

for i = 1, n do
  local bucket, digest, origin, rest, key, content, wire, meta, trace, hash
  bucket, digest, origin, rest, key, content, wire, meta, trace, hash, at = sunpack(CHANGE, packed, at)
  keys[i] = key
  local id = ids[origin]
  local leaf = id .. rest
  if check_each and not (leaf_ms(leaf) <= cap) then
    outcomes[i] = 3
  else
    if check_each and ((not max_applied) or compare_hlc_bin(max_applied, LEAF_HLC, leaf, LEAF_HLC) < 0) then max_applied = leaf end
    local leaves = k_leaves(p, bucket)
    local old_raw, old_bucket = leaf_and_bucket(leaves, key)
    local cmp = 1
    if old_raw then cmp = compare_leaf_stamps(p, leaf, LEAF_HLC, id, old_raw) end
    if cmp > 0 then
      local deleted = leaf_is_deleted(leaf)
      -- A DEL's leaf carries version 0: it keeps the version of the record it deletes.
      if deleted and old_raw then leaf = with_version(leaf, leaf_version(old_raw)) end
      store_change(p, key, bucket, leaves, old_raw, old_bucket, leaf, digest, content, trace)
      if do_emit then
        if deleted then
          emit(p, false, 'DEL', key, '', '', meta)
        else
          if wire == '' then wire = content end
          emit(p, false, 'PUT', key, hash, wire, meta)
        end
        emitted = true
      end
      outcomes[i] = 1
    elseif cmp == 0 then
      outcomes[i] = 2
    else
      outcomes[i] = 0
    end
  end
end

set_key_order(keys_in_order(keys, ARGV[10]))
flush_pending(p)
-- One approximate trim for the whole batch instead of one per XADD (the script is atomic: no
-- reader sees the stream longer than it would have been).
if emitted then redis.call('XTRIM', k_stream(p), 'MAXLEN', '~', maxlen) end
-- The clock advances past every stamp it accepts (docs/architecture.md), never past the bound.
if check_each then max_seen = max_applied and hlc_text(max_applied, LEAF_HLC) end
if n > 0 and max_seen then
  local meta = k_meta(p)
  local clock = redis.call('HGET', meta, 'hlc')
  if (not clock) or bytes_lt(clock, max_seen) then redis.call('HSET', meta, 'hlc', max_seen) end
end
return outcomes
