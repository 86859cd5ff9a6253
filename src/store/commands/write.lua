-- Local writes (PUT or DEL), a group of them in one call (store/group-commit.ts): each stamped from
-- the store's clock, with its version, record, tree and CDC entry, so the stream and the state never
-- disagree. Each write is atomic; the group is applied in order, so writes to one key keep their order.
-- ARGV: prefix, node_id, now_ms, cdc_maxlen, max_ahead_ms (the clock never runs further ahead of
-- now_ms: store.max_future_skew), count, writes, order (the writes' positions, 2 bytes each from 1,
-- in the byte order of their keys: commands/key-order.ts, for the live-key index).
-- writes packs, per write, op ('P' or 'D', one byte), then eight fields each preceded by its length
-- (4 bytes, big-endian): key, content, hash (64 hex digits), hash (its 32 bytes), content_type,
-- wire_data, trace_parent (text), trace_parent (its 26 bytes) (built by commands/write.ts; a DEL's are
-- all empty but the key). An empty wire_data means the content itself.
-- Returns one reply per write, in order: { hlc, version }, or an error reply for a write that could
-- not be made (it changed nothing); an error reply for the whole call when the origin table is full.
--- @include "stamps"
--- @include "record"
--- @include "cdc"
local p, origin, now, maxlen = ARGV[1], ARGV[2], checked_ms(ARGV[3], 'now_ms'), ARGV[4]
local cap = math.min(HLC_MAX_PHYSICAL, now + checked_ms(ARGV[5], 'max_ahead_ms'))
local n, packed = tonumber(ARGV[6]), ARGV[7]
local meta = k_meta(p)
local WRITE = '>c1I4c0I4c0I4c0I4c0I4c0I4c0I4c0I4c0'
local updated = string.format('%d', now)
local id = origin_id(p, origin)
if not id then return redis.error_reply('origin_table_full: no id left for origin ' .. origin) end

local clock = redis.call('HGET', meta, 'hlc') or false
local out = {}
local at = 1
local keys = {}
for i = 1, n do
  local op, key, content, hash, hash_bin, ctype, wire, tp, tp_bin
  op, key, content, hash, hash_bin, ctype, wire, tp, tp_bin, at = sunpack(WRITE, packed, at)
  keys[i] = key
  local next_clock = next_hlc(clock, now, cap)
  local hlc = next_clock
  local bucket = bucket_of(key)
  local leaves = k_leaves(p, bucket)
  local old_raw, old_bucket = leaf_and_bucket(leaves, key)
  if old_raw then
    -- A local write must beat what it overwrites even if the clock is behind it: an acknowledged
    -- write that loses to the key's old stamp would be undone by the next repair. Only here may a
    -- stamp pass the bound (the key's own stamp is beyond it: the wall clock stepped back, or an
    -- older version let it in); the clock itself stays within it.
    local oh = hlc_text(old_raw, LEAF_HLC)
    if not bytes_lt(oh, hlc) then hlc = successor_hlc(oh) end
  end
  if not hlc then
    out[i] = { err = 'the record ' .. key .. ' holds the greatest stamp there is; it cannot be overwritten' }
  else
    clock = next_clock
    if hlc_parts(hlc) <= cap then clock = hlc end
    local version = old_raw and leaf_version(old_raw) or 0
    if op == 'P' then version = version + 1 end
    local deleted, flags = '0', 0
    if op == 'D' then
      deleted, flags, hash, hash_bin, ctype, tp_bin = '1', FLAG_DELETED, '', '', '', ''
    else
      if ctype == 'binary' then flags = FLAG_BINARY end
      if tp_bin ~= '' then flags = flags + FLAG_TRACE end
    end
    local leaf = id .. spack('>B', flags) .. hlc_bin(hlc) .. spack('>I7I7', version, now) .. hash_bin
    store_change(p, key, bucket, leaves, old_raw, old_bucket, leaf, leaf_digest(key, hlc, origin, hash, deleted), content, tp_bin)
    local v = string.format('%d', version)
    if op == 'P' then
      if wire == '' then wire = content end
      emit(p, false, 'PUT', key, hash, wire, put_meta(ctype, v, updated, tp, hlc, origin))
    else
      emit(p, false, 'DEL', key, '', '', del_meta(hlc, origin, updated))
    end
    out[i] = { hlc, v }
  end
end
if clock then redis.call('HSET', meta, 'hlc', clock) end
set_key_order(keys_in_order(keys, ARGV[8]))
flush_pending(p)
-- One approximate trim for the group instead of one per XADD (the script is atomic: no reader sees
-- the stream longer than it would have been).
redis.call('XTRIM', k_stream(p), 'MAXLEN', '~', maxlen)
return out
