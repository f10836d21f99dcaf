-- GET /v1/services?q=<term>, cycling over search terms (with and without hits,
-- written without diacritics as users type them).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua").install({
  "/v1/services?q=bestatigung",
  "/v1/services?q=hund",
  "/v1/services?q=parkkarte",
  "/v1/services?q=demenagement",
  "/v1/services?q=bau",
})
