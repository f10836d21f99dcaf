-- POST /v1/oauth/token with grant_type=client_credentials and HTTP Basic client
-- authentication (BENCH_BASIC = base64 of client_id:client_secret, set by bench/run).
-- Each token issued also writes its audit row.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua").install({ "/v1/oauth/token" }, {
  method = "POST",
  headers = {
    ["Authorization"] = "Basic " .. (os.getenv("BENCH_BASIC") or ""),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  },
  body = "grant_type=client_credentials",
})
