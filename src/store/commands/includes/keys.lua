-- The store's key names under the node's prefix p, as src/store/keys.ts builds them (the
-- integration tests read through those builders what the scripts write, so the two cannot drift).
local function k_record(p, key) return p .. 'r:' .. key end
local function k_meta(p) return p .. 'm:meta' end
local function k_origins(p) return p .. 'm:origins' end
local function k_index(p) return p .. 'm:kx' end
local function k_page(p, first) return p .. 'm:kp:' .. first end
local function k_page_scratch(p) return p .. 'm:kt' end -- a page being rebuilt, only inside a script
local function k_tombs(p) return p .. 'm:tombs' end
local function k_branches(p) return p .. 't:br' end
local function k_leaves(p, bucket) return p .. 't:lf:' .. bucket end
local function k_stream(p) return p .. 'cdc' end
local function k_v3_live(p) return p .. 'm:keys' end -- store format v3 only (migrate-v3.lua)
local function k_v2_buckets(p) return p .. 't:bk' end -- tree format v2 only (migrate-v2.lua)

-- The field of a leaves hash that holds the bucket's digest (no user key is empty).
local BUCKET_FIELD = ''
