--- @include "keys"
-- Meta JSON in the wire order (docs/wire-format.md). Every interpolated value is validated
-- by the TypeScript caller (enum, digits, hex, node-id charset): nothing needs escaping.
local function put_meta(ctype, version, updated, tp, hlc, origin)
  local trace = ''
  if tp ~= '' then trace = ',"trace_parent":"' .. tp .. '"' end
  return '{"content_type":"' .. ctype .. '","version":' .. version .. ',"updated_at":' .. updated .. trace ..
    ',"hlc":"' .. hlc .. '","origin":"' .. origin .. '"}'
end

local function del_meta(hlc, origin, updated)
  return '{"hlc":"' .. hlc .. '","origin":"' .. origin .. '","updated_at":' .. updated .. '}'
end

-- maxlen false: no trimming here (a batch trims once, at its end: see apply.lua).
local function emit(p, maxlen, op, key, hash, wire, meta)
  if maxlen then
    if op == 'PUT' then
      redis.call('XADD', k_stream(p), 'MAXLEN', '~', maxlen, '*', 'op', 'PUT', 'key', key, 'hash', hash, 'data', wire, 'meta', meta)
    else
      redis.call('XADD', k_stream(p), 'MAXLEN', '~', maxlen, '*', 'op', 'DEL', 'key', key, 'meta', meta)
    end
  elseif op == 'PUT' then
    redis.call('XADD', k_stream(p), '*', 'op', 'PUT', 'key', key, 'hash', hash, 'data', wire, 'meta', meta)
  else
    redis.call('XADD', k_stream(p), '*', 'op', 'DEL', 'key', key, 'meta', meta)
  end
end
