-- A local write (PUT or DEL): stamp from the store's clock, version, record, tree and the
-- CDC entry in one atomic script, so the stream and the state never disagree.
-- ARGV: prefix, node_id, now_ms, cdc_maxlen, op, key, content, hash, content_type, wire_data, trace_parent,
-- max_ahead_ms (the clock never runs further ahead of now_ms: store.max_future_skew)
-- Returns { hlc, version }.
--- @include "stamps"
--- @include "record"
--- @include "cdc"
local p, origin, now, maxlen = ARGV[1], ARGV[2], checked_ms(ARGV[3], 'now_ms'), ARGV[4]
local op, key, content, hash, ctype, wire, tp = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local cap = math.min(HLC_MAX_PHYSICAL, now + checked_ms(ARGV[12], 'max_ahead_ms'))
local meta = k_meta(p)

local clock = next_hlc(redis.call('HGET', meta, 'hlc') or false, now, cap)
local hlc = clock
local bucket = bucket_of(key)
local leaves = k_leaves(p, bucket)
local old_raw, old_bucket = leaf_and_bucket(leaves, key)
if old_raw then
  -- A local write must beat what it overwrites even if the clock is behind it: an acknowledged
  -- write that loses to the key's old stamp would be undone by the next repair. Only here may a
  -- stamp pass the bound (the key's own stamp is beyond it: the wall clock stepped back, or an
  -- older version let it in); the clock itself stays within it.
  local oh = parse_leaf(old_raw)
  if not bytes_lt(oh, hlc) then
    hlc = successor_hlc(oh)
    if not hlc then error('the record ' .. key .. ' holds the greatest stamp there is; it cannot be overwritten') end
  end
end
if hlc_parts(hlc) <= cap then clock = hlc end
redis.call('HSET', meta, 'hlc', clock)

local version = tonumber(old_raw and leaf_version(old_raw) or '0')
if op == 'PUT' then version = version + 1 end
version = string.format('%d', version)
local updated = string.format('%d', now)

local deleted = '0'
if op == 'DEL' then deleted = '1'; hash = ''; ctype = '' end
local leaf = leaf_value(leaf_digest(key, hlc, origin, hash, deleted), hlc, deleted, hash, origin, ctype, version, updated, tp)
store_change(p, key, bucket, leaves, old_raw, old_bucket, leaf, content)
flush_pending(p)
if op == 'PUT' then
  emit(p, maxlen, op, key, hash, wire, put_meta(ctype, version, updated, tp, hlc, origin))
else
  emit(p, maxlen, op, key, '', '', del_meta(hlc, origin, updated))
end
return { hlc, version }
