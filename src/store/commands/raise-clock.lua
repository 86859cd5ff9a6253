-- ARGV: prefix, hlc. Raises the store's clock to at least `hlc`. A Redis that lost its data lost its
-- clock too; raised back to the last stamp the engine saw it hold, it never issues a stamp below one
-- it had already issued or seen, so a local write made after the loss still beats what peers hold.
-- Returns 1 when the clock was raised.
--- @include "keys"
--- @include "stamps"
local meta = k_meta(ARGV[1])
local current = redis.call('HGET', meta, 'hlc')
if current and not bytes_lt(current, ARGV[2]) then return 0 end
redis.call('HSET', meta, 'hlc', ARGV[2])
return 1
