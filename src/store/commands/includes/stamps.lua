--- @include "builtins"
-- Byte order, not the locale's collation (Redis sets LC_COLLATE from the environment).
local function bytes_lt(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- Last-writer-wins order on (hlc, origin): -1, 0 or 1.
local function compare_stamps(h1, o1, h2, o2)
  if h1 ~= h2 then
    if bytes_lt(h1, h2) then return -1 else return 1 end
  end
  if o1 ~= o2 then
    if bytes_lt(o1, o2) then return -1 else return 1 end
  end
  return 0
end

-- Stamps' physical part is at most 9999-12-31T23:59:59.999Z (HLC_MAX_PHYSICAL_MS in
-- src/model/hlc.ts): below 2^48, so tonumber, + 1 and %016d are exact in Lua's doubles.
local HLC_MAX_PHYSICAL = 253402300799999

local function format_hlc(physical, logical)
  return string.format('%016d-%05d', physical, logical)
end

-- A wall clock or bound from the caller, checked: arithmetic on it must stay exact.
local function checked_ms(value, name)
  local ms = tonumber(value)
  if not ms or ms < 0 or ms > HLC_MAX_PHYSICAL or ms ~= math.floor(ms) then
    error('invalid ' .. name .. ': not a whole number of ms within the stamp range')
  end
  return ms
end

-- A stored stamp's parts; an out-of-range physical part (a stamp an older version let in) reads
-- as beyond the range, so every comparison with a bound still goes the right way.
local function hlc_parts(h)
  return tonumber(sub(h, 1, 16)), tonumber(sub(h, 18, 22))
end

-- max(last, now) + tick, never beyond `cap` (wall clock + max_future_skew), as nextHlc() in
-- src/model/hlc.ts (the property tests there state the rules).
local function next_hlc(last, now, cap)
  if not last then return format_hlc(now, 0) end
  local physical, logical = hlc_parts(last)
  if now > physical then return format_hlc(now, 0) end
  if physical > cap then return format_hlc(cap, 0) end
  if logical < 99999 then return format_hlc(physical, logical + 1) end
  if physical < cap then return format_hlc(physical + 1, 0) end
  return last
end

-- The least stamp greater than h (successorHlc in src/model/hlc.ts); false past the range.
local function successor_hlc(h)
  local physical, logical = hlc_parts(h)
  if logical < 99999 then
    if physical > HLC_MAX_PHYSICAL then return false end
    return format_hlc(physical, logical + 1)
  end
  if physical + 1 > HLC_MAX_PHYSICAL then return false end
  return format_hlc(physical + 1, 0)
end

-- A stamp in 10 bytes, as leaves keep it: the hlc's first 7 digits (3 bytes), its next 9 (4 bytes)
-- and its logical counter (3 bytes), each big-endian. Every 16-digit physical part fits (also those
-- beyond HLC_MAX_PHYSICAL that an older version let in), and byte order is the stamps' order.
local HLC_BIN = '>I3I4I3'

local function hlc_bin(h)
  return spack(HLC_BIN, tonumber(sub(h, 1, 7)), tonumber(sub(h, 8, 16)), tonumber(sub(h, 18, 22)))
end

local function hlc_text(raw, at)
  local hi, lo, logical = sunpack(HLC_BIN, raw, at)
  return string.format('%07d%09d-%05d', hi, lo, logical)
end

-- The physical part in ms (inexact only far beyond HLC_MAX_PHYSICAL, where it still compares as beyond).
local function hlc_bin_ms(raw, at)
  local hi, lo = sunpack('>I3I4', raw, at)
  return hi * 1000000000 + lo
end

-- -1, 0 or 1: the 10-byte stamp at `a_at` in `a` against the one at `b_at` in `b`.
local function compare_hlc_bin(a, a_at, b, b_at)
  local a1, a2, a3 = sunpack(HLC_BIN, a, a_at)
  local b1, b2, b3 = sunpack(HLC_BIN, b, b_at)
  if a1 ~= b1 then if a1 < b1 then return -1 else return 1 end end
  if a2 ~= b2 then if a2 < b2 then return -1 else return 1 end end
  if a3 ~= b3 then if a3 < b3 then return -1 else return 1 end end
  return 0
end
