-- GET /v1/services?limit=20 (first page of the catalogue).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua").install({
  "/v1/services?limit=20",
})
