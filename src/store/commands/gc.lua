-- Tombstone GC: drops up to `limit` tombstones whose HLC time is at or before the cutoff,
-- removing their leaves from the tree (docs/architecture.md: by the stamp's time, so every node drops
-- a tombstone at about the same moment).
-- ARGV: prefix, cutoff_ms, limit. Returns the number of tombstones dropped.
--- @include "record"
local p, cutoff, limit = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local keys = redis.call('ZRANGEBYSCORE', k_tombs(p), '-inf', cutoff, 'LIMIT', 0, limit)
local dropped = 0
for _, key in ipairs(keys) do
  local bucket = bucket_of(key)
  local lk = k_leaves(p, bucket)
  local raw, old_bucket = leaf_and_bucket(lk, key)
  if raw then
    if leaf_is_deleted(raw) and leaf_ms(raw) <= cutoff then
      leaf_replace(lk, bucket, key, stored_leaf_digest(p, key, raw), old_bucket, false, false) -- a tombstone has no record key
      dropped = dropped + 1
    end
  end
  redis.call('ZREM', k_tombs(p), key)
end
flush_pending(p)
return dropped
