-- Applies a batch of replicated changes, each atomically with its tree update and re-emit.
-- ARGV: prefix, emit ('1'|'0'), cdc_maxlen, count, max_hlc, then per change 4 fields:
--   head, key, content, wire_data
-- head is the new leaf's digest (20 bytes), the key's bucket (4 hex digits), then the short
-- fields, space-separated (none of them can contain a space; the caller validates every one):
-- "<digest><bucket> op hlc origin hash content_type version updated_at trace_parent"
-- (hash, content_type and trace_parent empty for a DEL, trace_parent empty when unset).
-- The caller computes digest and bucket (RedisStore.applyArgs, with tree-shape.ts): two SHA-1s
-- per change that would otherwise run here, on the busier core.
-- Four arguments per change instead of eleven: each argument costs Redis a parse, an object
-- and a Lua string, and costs the client its framing; splitting one string is cheaper.
-- wire_data is what to re-emit as `data`; '' means "the content itself" (stored uncompressed).
-- max_hlc is the greatest hlc among the changes, computed by the caller (RedisStore.applyChanges,
-- which builds these arguments): a byte-order comparison per change costs ~1 µs in Lua, a
-- string comparison in JavaScript nothing. Returns one outcome per change: 1 applied, 0 stale,
-- 2 duplicate.
local p = ARGV[1]
local do_emit = ARGV[2] == '1'
local maxlen = ARGV[3]
local n = tonumber(ARGV[4])
local max_seen = ARGV[5]
local outcomes = {}
local emitted = false
local find, sub = string.find, string.sub

-- The header's eight fields, by plain finds (twice as fast as one string.match with captures).
-- nil when a separator is missing (the caller validated every field: this cannot happen).
local HEAD_FIELDS_AT = 26 -- after the digest, the bucket and a space
local function head_fields(h)
  local e1 = find(h, ' ', HEAD_FIELDS_AT, true)
  local e2 = e1 and find(h, ' ', e1 + 1, true)
  local e3 = e2 and find(h, ' ', e2 + 1, true)
  local e4 = e3 and find(h, ' ', e3 + 1, true)
  local e5 = e4 and find(h, ' ', e4 + 1, true)
  local e6 = e5 and find(h, ' ', e5 + 1, true)
  local e7 = e6 and find(h, ' ', e6 + 1, true)
  if not e7 then return nil end
  return sub(h, HEAD_FIELDS_AT, e1 - 1), sub(h, e1 + 1, e2 - 1), sub(h, e2 + 1, e3 - 1), sub(h, e3 + 1, e4 - 1),
    sub(h, e4 + 1, e5 - 1), sub(h, e5 + 1, e6 - 1), sub(h, e6 + 1, e7 - 1), sub(h, e7 + 1)
end

for i = 0, n - 1 do
  local b = 6 + i * 4
  local key, head = ARGV[b + 1], ARGV[b]
  local op, hlc, origin, hash, ctype, version, updated, tp = head_fields(head)
  if not op then return redis.error_reply('apply: malformed change header at ' .. i) end
  local bucket = sub(head, 21, 24)
  local old_raw, old_bucket = leaf_and_bucket(k_leaves(p, bucket), key)
  local cmp = 1
  if old_raw then
    local oh, _, _, oo = parse_leaf(old_raw)
    cmp = compare_stamps(hlc, origin, oh, oo)
  end
  if cmp > 0 then
    local content = ARGV[b + 2]
    if op == 'DEL' then
      version = old_raw and leaf_version(old_raw) or '0'
    end
    store_change(p, key, bucket, old_raw, old_bucket, sub(head, 1, 20), op, hlc, origin, content, hash, ctype, version, updated, tp)
    if do_emit then
      if op == 'PUT' then
        local wire = ARGV[b + 3]
        if wire == '' then wire = content end
        emit(p, false, op, key, hash, wire, put_meta(ctype, version, updated, tp, hlc, origin))
      else
        emit(p, false, op, key, '', '', del_meta(hlc, origin, updated))
      end
      emitted = true
    end
    outcomes[#outcomes + 1] = 1
  elseif cmp == 0 then
    outcomes[#outcomes + 1] = 2
  else
    outcomes[#outcomes + 1] = 0
  end
end

tree_flush(p)
index_flush(p)
-- One approximate trim for the whole batch instead of one per XADD (the script is atomic: no
-- reader sees the stream longer than it would have been).
if emitted then redis.call('XTRIM', k_stream(p), 'MAXLEN', '~', maxlen) end
-- The clock advances past every stamp it receives (DESIGN §3).
if n > 0 then
  local meta = k_meta(p)
  local clock = redis.call('HGET', meta, 'hlc')
  if (not clock) or bytes_lt(clock, max_seen) then redis.call('HSET', meta, 'hlc', max_seen) end
end
return outcomes
