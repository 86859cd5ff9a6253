-- Reads the bucket digests of whole branches (the cold path's drill-down), without writing.
-- A bucket's digest lives in its leaves hash (docs/wire-format.md): one HGET per bucket, here
-- in the server instead of 256 pipelined replies per branch for the client to parse.
-- ARGV: prefix, then branch ids (2 hex digits each). Returns per branch one string of 256 × 20
-- bytes, the digests of its buckets 00…ff in order, all zeros where a bucket is empty.
local p = ARGV[1]
local ZERO = string.rep('\0', 20)
local out = {}
for i = 2, #ARGV do
  local branch = ARGV[i]
  local digests = {}
  for j = 0, 255 do
    local bucket = branch .. string.format('%02x', j)
    local d = redis.call('HGET', k_leaves(p, bucket), BUCKET_FIELD)
    if not d then
      digests[j + 1] = ZERO
    elseif #d == 20 then
      digests[j + 1] = d
    else
      return redis.error_reply('bad_tree: bucket ' .. bucket .. ' has a ' .. #d .. '-byte digest, not 20 (not tree format v3)')
    end
  end
  out[#out + 1] = table.concat(digests)
end
return out
