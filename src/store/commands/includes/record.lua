--- @include "keys"
--- @include "leaf"
--- @include "pending"
-- Reads a key's leaf and its bucket's digest (one HMGET): leaf value or false, digest or false.
local function leaf_and_bucket(leaves, key)
  local got = redis.call('HMGET', leaves, key, BUCKET_FIELD)
  return got[1], got[2]
end

-- Writes one winning change: the record's content (removed for a tombstone) followed by its trace
-- parent (26 bytes, or '' for none; the leaf's flag says which), the leaf `leaf` (as stored) with
-- its digest `digest`, the bucket digest, the indexes and the pending branch delta. leaves is the
-- bucket's leaves key; old_raw / old_bucket are what leaf_and_bucket returned.
local function store_change(p, key, bucket, leaves, old_raw, old_bucket, leaf, digest, content, trace)
  local deleted = leaf_is_deleted(leaf)
  if deleted then
    redis.call('DEL', k_record(p, key))
  else
    redis.call('SET', k_record(p, key), content)
    -- APPEND, not a concatenation here: a 16 MiB content is not copied into a new Lua string.
    if trace ~= '' then redis.call('APPEND', k_record(p, key), trace) end
  end
  local old_digest = old_raw and stored_leaf_digest(p, key, old_raw)
  leaf_replace(leaves, bucket, key, old_digest, old_bucket, leaf, digest)
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
