-- A script's tree and index changes are gathered while it runs (tree.lua, indexes.lua) and
-- written once, at its end: flush_pending(p). Every script that includes this file must call it
-- last (the loader, commands/script-source.ts, refuses one that does not); forgetting it would
-- leave leaves changed under unchanged branch digests.
--- @include "tree"
--- @include "indexes"

local function flush_pending(p)
  tree_flush(p)
  index_flush(p)
end
