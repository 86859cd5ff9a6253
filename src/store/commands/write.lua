-- A local write (PUT or DEL): stamp from the store's clock, version, record, tree and the
-- CDC entry in one atomic script, so the stream and the state never disagree.
-- ARGV: prefix, node_id, now_ms, cdc_maxlen, op, key, content, hash, content_type, wire_data, trace_parent
-- Returns { hlc, version }.
local p, origin, now, maxlen = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local op, key, content, hash, ctype, wire, tp = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local meta = k_meta(p)

local hlc = next_hlc(redis.call('HGET', meta, 'hlc') or false, now)
local bucket = bucket_of(key)
local leaves = k_leaves(p, bucket)
local old_raw, old_bucket = leaf_and_bucket(leaves, key)
if old_raw then
  -- Defensive: a local write must beat what it overwrites even if the clock was behind it.
  local oh = parse_leaf(old_raw)
  if not bytes_lt(oh, hlc) then hlc = next_hlc(oh, now) end
end
redis.call('HSET', meta, 'hlc', hlc)

local version = tonumber(old_raw and leaf_version(old_raw) or '0')
if op == 'PUT' then version = version + 1 end
version = string.format('%d', version)
local updated = string.format('%d', now)

local deleted = '0'
if op == 'DEL' then deleted = '1'; hash = ''; ctype = '' end
local leaf = leaf_value(leaf_digest(key, hlc, origin, hash, deleted), hlc, deleted, hash, origin, ctype, version, updated, tp)
store_change(p, key, bucket, leaves, old_raw, old_bucket, leaf, content)
tree_flush(p)
index_flush(p)
if op == 'PUT' then
  emit(p, maxlen, op, key, hash, wire, put_meta(ctype, version, updated, tp, hlc, origin))
else
  emit(p, maxlen, op, key, '', '', del_meta(hlc, origin, updated))
end
return { hlc, version }
