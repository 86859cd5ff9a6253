--- @include "builtins"
--- @include "keys"
--- @include "digest"
-- Branch deltas accumulate during a script (five words per touched branch) and are written once
-- at the end: one HMGET and one HSET on the branches hash, one HGET and HSET for the root.
local branch_pending = {}
local function branch_change(bucket, a, b, c, d, e)
  local branch = sub(bucket, 1, 2)
  local w = branch_pending[branch]
  if w then
    w[1], w[2], w[3], w[4], w[5] = bxor(w[1], a), bxor(w[2], b), bxor(w[3], c), bxor(w[4], d), bxor(w[5], e)
  else
    branch_pending[branch] = { a, b, c, d, e }
  end
end

-- Replaces leaf `key` of a bucket (new_raw: false to remove it) and updates the bucket's digest in
-- the same HSET: the digest lives in the leaves hash, so a change costs one read (the caller's HMGET
-- of key + digest) and one write for leaf and bucket together. old_digest / new_digest are the leaf
-- digests (20 bytes) of the old and the new leaf, false when absent; old_bucket is the bucket's
-- current digest (20 bytes) or false.
local function leaf_replace(leaves, bucket, key, old_digest, old_bucket, new_raw, new_digest)
  local a, b, c, d, e = 0, 0, 0, 0, 0
  if new_digest then a, b, c, d, e = sunpack(WORDS, new_digest) end
  if old_digest then
    local o1, o2, o3, o4, o5 = sunpack(WORDS, old_digest)
    a, b, c, d, e = bxor(a, o1), bxor(b, o2), bxor(c, o3), bxor(d, o4), bxor(e, o5)
  end
  branch_change(bucket, a, b, c, d, e)
  if old_bucket then
    local o1, o2, o3, o4, o5 = sunpack(WORDS, old_bucket)
    a, b, c, d, e = bxor(a, o1), bxor(b, o2), bxor(c, o3), bxor(d, o4), bxor(e, o5)
  end
  -- An all-zero digest is the same as an absent one: removed, so an emptied bucket leaves no key.
  local zero = a == 0 and b == 0 and c == 0 and d == 0 and e == 0
  if new_raw then
    if zero then
      redis.call('HSET', leaves, key, new_raw)
      redis.call('HDEL', leaves, BUCKET_FIELD)
    else
      redis.call('HSET', leaves, key, new_raw, BUCKET_FIELD, spack(WORDS, a, b, c, d, e))
    end
  else
    if zero then
      redis.call('HDEL', leaves, key, BUCKET_FIELD)
    else
      redis.call('HDEL', leaves, key)
      redis.call('HSET', leaves, BUCKET_FIELD, spack(WORDS, a, b, c, d, e))
    end
  end
end

-- Reads the binary digests of hash `key` named in `names`, XORs each with its delta, writes the
-- non-zero results and deletes the zero ones (an all-zero node is the same as an absent one).
-- In slices of TREE_CHUNK fields: unpack() has a stack limit.
local TREE_CHUNK = 500
local function xor_hash_fields(key, names, deltas)
  for first = 1, #names, TREE_CHUNK do
    local last = math.min(#names, first + TREE_CHUNK - 1)
    local olds = redis.call('HMGET', key, unpack(names, first, last))
    local set, del = {}, {}
    for i = first, last do
      local w = deltas[i]
      local old = olds[i - first + 1]
      if old then
        local a, b, c, d, e = sunpack(WORDS, old)
        w[1], w[2], w[3], w[4], w[5] = bxor(w[1], a), bxor(w[2], b), bxor(w[3], c), bxor(w[4], d), bxor(w[5], e)
      end
      if is_zero(w) then del[#del + 1] = names[i] else set[#set + 1] = names[i]; set[#set + 1] = spack(WORDS, w[1], w[2], w[3], w[4], w[5]) end
    end
    if #set > 0 then redis.call('HSET', key, unpack(set)) end
    if #del > 0 then redis.call('HDEL', key, unpack(del)) end
  end
end

-- Writes the branch and root digests the script's leaf changes add up to.
local function tree_flush(p)
  local names, deltas = {}, {}
  local root = { 0, 0, 0, 0, 0 }
  for branch, sum in pairs(branch_pending) do
    if not is_zero(sum) then
      names[#names + 1] = branch
      deltas[#deltas + 1] = sum
      xor_words(root, sum) -- before xor_hash_fields reuses `sum` for the branch's new value
    end
  end
  branch_pending = {}
  if #names > 0 then xor_hash_fields(k_branches(p), names, deltas) end
  if not is_zero(root) then
    local meta = k_meta(p)
    local old = redis.call('HGET', meta, 'root')
    if old then xor_into(root, old) end
    redis.call('HSET', meta, 'root', hex_of(root))
  end
end
