-- Reads the bucket digests of whole branches (the cold path's drill-down), without writing.
-- A bucket's digest lives in its leaves hash (docs/wire-format.md): one HGET per bucket, here
-- in the server instead of 256 pipelined replies per branch for the client to parse.
-- ARGV: prefix, then branch ids (2 hex digits each). Returns per branch one string of 256 × 20
-- bytes, the digests of its buckets 00…ff in order, all zeros where a bucket is empty.
--- @flags no-writes
--- @include "keys"
local p = ARGV[1]
local ZERO = string.rep('\0', 20)
local SUFFIXES = {}
for j = 0, 255 do SUFFIXES[j + 1] = string.format('%02x', j) end
local out = {}
for i = 2, #ARGV do
  local branch = ARGV[i]
  local base = k_leaves(p, branch)
  local digests = {}
  for j = 1, 256 do
    local d = redis.call('HGET', base .. SUFFIXES[j], BUCKET_FIELD)
    if not d then
      digests[j] = ZERO
    elseif #d == 20 then
      digests[j] = d
    else
      return redis.error_reply('bad_tree: bucket ' .. branch .. SUFFIXES[j] .. ' has a ' .. #d .. '-byte digest, not 20 (not store format v3 or v4)')
    end
  end
  out[#out + 1] = table.concat(digests)
end
return out
