-- Applies a batch of replicated changes, each atomically with its tree update and re-emit.
-- ARGV: prefix, emit ('1'|'0'), cdc_maxlen, count, max_hlc, changes, now_ms, max_ahead_ms
-- changes packs, per change, the key's bucket (4 hex digits), then five fields each preceded by
-- its length (4 bytes, big-endian): leaf, key, content, wire_data, meta
-- (built by commands/apply-args.ts: one argument instead of five per change spares both sides
-- the per-argument work; one struct.unpack takes a change apart).
-- leaf is the new leaf exactly as stored (the leaf digest's 20 bytes, then "<hlc> <0|1> <hash>
-- <origin> <content_type> <version> <updated_at> <trace_parent>": docs/wire-format.md), and meta
-- the JSON to re-emit ('' when emit is off). The script takes out of the leaf only what it needs:
-- every string it makes is allocated and hashed (Lua interns them all), so the stamp is parsed
-- only when there is an old one to compare it with.
-- The caller builds both, with the digest and the bucket (two SHA-1s per change): all of it
-- would otherwise be parsed, hashed and concatenated here, on the busier core. The script reads
-- only what it decides with: the stamp, for last-writer-wins.
-- A DEL's leaf carries version 0: the script puts in the version of the record it deletes.
-- wire_data is what to re-emit as `data`; '' means "the content itself" (stored uncompressed).
-- max_hlc is the greatest hlc among the changes, computed by the caller: a byte-order comparison
-- per change costs ~1 µs in Lua, a string comparison in JavaScript nothing.
-- A change stamped more than max_ahead_ms ahead of now_ms (store.max_future_skew) is refused, 3:
-- not applied, and it does not move the clock (src/model/future-stamp.ts). The caller leaves such
-- changes out already; this is the store's own check, one comparison per batch when none is.
-- Returns one outcome per change: 1 applied, 0 stale, 2 duplicate, 3 too far ahead.
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
-- Any change beyond the bound? Only then is each change's time read (max_seen is the greatest).
local check_each = n > 0 and not (hlc_parts(max_seen) <= cap)
local max_applied = false
local outcomes = {}
local emitted = false
local CHANGE = '>c4I4c0I4c0I4c0I4c0I4c0'
local at = 1

for i = 1, n do
  local bucket, leaf, key, content, wire, meta
  bucket, leaf, key, content, wire, meta, at = sunpack(CHANGE, packed, at)
  if check_each and not (leaf_ms(leaf) <= cap) then
    outcomes[i] = 3
  else
    if check_each then
      local h = sub(leaf, LEAF_HLC_FIRST, LEAF_HLC_LAST)
      if (not max_applied) or bytes_lt(max_applied, h) then max_applied = h end
    end
    local deleted = leaf_is_deleted(leaf)
    local leaves = k_leaves(p, bucket)
    local old_raw, old_bucket = leaf_and_bucket(leaves, key)
    local cmp = 1
    if old_raw then
      local hlc, _, _, origin = parse_leaf(leaf)
      local oh, _, _, oo = parse_leaf(old_raw)
      cmp = compare_stamps(hlc, origin, oh, oo)
    end
    if cmp > 0 then
      -- A DEL's leaf carries version 0: it keeps the version of the record it deletes.
      if deleted then leaf = with_version(leaf, old_raw and leaf_version(old_raw) or '0') end
      store_change(p, key, bucket, leaves, old_raw, old_bucket, leaf, content)
      if do_emit then
        if deleted then
          emit(p, false, 'DEL', key, '', '', meta)
        else
          if wire == '' then wire = content end
          emit(p, false, 'PUT', key, live_leaf_hash(leaf), wire, meta)
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

flush_pending(p)
-- One approximate trim for the whole batch instead of one per XADD (the script is atomic: no
-- reader sees the stream longer than it would have been).
if emitted then redis.call('XTRIM', k_stream(p), 'MAXLEN', '~', maxlen) end
-- The clock advances past every stamp it accepts (docs/architecture.md), never past the bound.
if check_each then max_seen = max_applied end
if n > 0 and max_seen then
  local meta = k_meta(p)
  local clock = redis.call('HGET', meta, 'hlc')
  if (not clock) or bytes_lt(clock, max_seen) then redis.call('HSET', meta, 'hlc', max_seen) end
end
return outcomes
