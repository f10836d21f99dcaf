-- GET /v1/services/{slug}, cycling over seeded slugs (GUICHET_SEED=thun).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua").install({
  "/v1/services/wohnsitzbestaetigung",
  "/v1/services/hund-anmelden",
  "/v1/services/zuzug-anmelden",
  "/v1/services/baugesuch",
})
