--- @include "builtins"
--- @include "digest"
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
