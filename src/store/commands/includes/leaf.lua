--- @include "builtins"
--- @include "digest"
--- @include "stamps"
--- @include "origins"
local function bucket_of(key)
  return sub(redis.sha1hex(key), 1, 4)
end

-- A leaf as stored in its bucket's leaves hash (store format v4, docs/wire-format.md), binary and
-- fixed-width, 28 bytes for a tombstone and 60 for a live record, so that a bucket's hash stays a
-- listpack (values of at most 64 bytes):
--   1-3    origin id (origins.lua)
--   4      flags: 1 tombstone, 2 content type binary (else json), 4 the record ends with its trace parent
--   5-14   hlc (stamps.lua: hlc_bin)
--   15-21  version (7 bytes, big-endian)
--   22-28  updated_at, ms (7 bytes, big-endian)
--   29-60  content hash, SHA-256 (live records only)
-- The leaf digest is not stored: it is recomputed from these fields when the leaf is replaced.
local LEAF_FLAGS, LEAF_HLC, LEAF_VERSION, LEAF_HASH = 4, 5, 15, 29
local FLAG_DELETED, FLAG_BINARY, FLAG_TRACE = 1, 2, 4
local band = bit.band

local function leaf_is_deleted(raw) return band(byte(raw, LEAF_FLAGS), FLAG_DELETED) ~= 0 end
local function leaf_ms(raw) return hlc_bin_ms(raw, LEAF_HLC) end
local function leaf_version(raw) return (sunpack('>I7', raw, LEAF_VERSION)) end
local function leaf_hash_hex(raw)
  if leaf_is_deleted(raw) then return '' end
  return hex_of_bin32(raw, LEAF_HASH)
end

-- The leaf with another version (a DEL keeps the version of the record it deletes).
local function with_version(raw, version)
  return sub(raw, 1, LEAF_VERSION - 1) .. spack('>I7', version) .. sub(raw, LEAF_VERSION + 7)
end

-- Must equal leafDigest() in src/merkle/tree-shape.ts (there as hex, here as 20 bytes).
local function leaf_digest(key, hlc, origin, hash, deleted)
  return bin_of_hex(redis.sha1hex(#key .. ':' .. key .. '|' .. hlc .. '|' .. origin .. '|' .. hash .. '|' .. deleted))
end

-- The digest of a stored leaf, recomputed from its fields.
local function stored_leaf_digest(p, key, raw)
  local deleted = '0'
  if leaf_is_deleted(raw) then deleted = '1' end
  return leaf_digest(key, hlc_text(raw, LEAF_HLC), origin_name(p, sub(raw, 1, 3)), leaf_hash_hex(raw), deleted)
end

-- Last-writer-wins order of a leaf's stamp (hlc at `at` in `raw`, origin id `id`) against a
-- stored leaf's: -1, 0 or 1. Origin names are read only when the times are equal and the ids differ.
local function compare_leaf_stamps(p, raw, at, id, old)
  local c = compare_hlc_bin(raw, at, old, LEAF_HLC)
  if c ~= 0 then return c end
  local old_id = sub(old, 1, 3)
  if id == old_id then return 0 end
  if bytes_lt(origin_name(p, id), origin_name(p, old_id)) then return -1 end
  return 1
end
