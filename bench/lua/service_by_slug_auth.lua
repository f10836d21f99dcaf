-- GET /v1/services/{slug} with a valid bearer token (BENCH_TOKEN, set by bench/run), to
-- compare with service_by_slug: the cost of verifying a token on a read.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua").install({
  "/v1/services/wohnsitzbestaetigung",
  "/v1/services/hund-anmelden",
  "/v1/services/zuzug-anmelden",
  "/v1/services/baugesuch",
}, { headers = { ["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "") } })
