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
