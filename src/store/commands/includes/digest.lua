--- @include "builtins"
-- Digests are SHA-1 (20 bytes). Leaf, bucket and branch digests are stored as the raw 20 bytes
-- and combined as five 32-bit words with struct.unpack / struct.pack (one C call each) rather
-- than parsed from and formatted to hex; the root, one per script and read by operators, as 40
-- hex digits.
local WORDS = '>i4i4i4i4i4'

local function words_of(hex)
  return tonumber(sub(hex, 1, 8), 16), tonumber(sub(hex, 9, 16), 16), tonumber(sub(hex, 17, 24), 16),
    tonumber(sub(hex, 25, 32), 16), tonumber(sub(hex, 33, 40), 16)
end

-- bit.tohex normalises its argument to 32 bits, so unnormalised words (tonumber > 2^31) format right.
local function hex_of(w)
  return tohex(w[1], 8) .. tohex(w[2], 8) .. tohex(w[3], 8) .. tohex(w[4], 8) .. tohex(w[5], 8)
end

local function bin_of_hex(hex)
  return spack(WORDS, words_of(hex))
end

local function is_zero(w)
  return w[1] == 0 and w[2] == 0 and w[3] == 0 and w[4] == 0 and w[5] == 0
end

-- w := w XOR the hex digest `hex` (or XOR the words of table `o`).
local function xor_into(w, hex)
  local a, b, c, d, e = words_of(hex)
  w[1], w[2], w[3], w[4], w[5] = bxor(w[1], a), bxor(w[2], b), bxor(w[3], c), bxor(w[4], d), bxor(w[5], e)
end

local function xor_words(w, o)
  w[1], w[2], w[3], w[4], w[5] = bxor(w[1], o[1]), bxor(w[2], o[2]), bxor(w[3], o[3]), bxor(w[4], o[4]), bxor(w[5], o[5])
end

-- A SHA-256 (the content hash) between its 32 stored bytes and its 64 hex digits.
local HASH_WORDS = '>I4I4I4I4I4I4I4I4'
local function hex_of_bin32(raw, at)
  local a, b, c, d, e, f, g, h = sunpack(HASH_WORDS, raw, at)
  return string.format('%08x%08x%08x%08x%08x%08x%08x%08x', a, b, c, d, e, f, g, h)
end

local function bin32_of_hex(hex)
  return spack(HASH_WORDS, tonumber(sub(hex, 1, 8), 16), tonumber(sub(hex, 9, 16), 16), tonumber(sub(hex, 17, 24), 16),
    tonumber(sub(hex, 25, 32), 16), tonumber(sub(hex, 33, 40), 16), tonumber(sub(hex, 41, 48), 16),
    tonumber(sub(hex, 49, 56), 16), tonumber(sub(hex, 57, 64), 16))
end
