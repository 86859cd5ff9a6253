-- Local aliases of the Lua and Redis built-ins the scripts use on every change: a local is an
-- upvalue read, a global a table lookup.
local tonumber, sub, byte, bxor, tohex, unpack = tonumber, string.sub, string.byte, bit.bxor, bit.tohex, unpack
local spack, sunpack = struct.pack, struct.unpack
