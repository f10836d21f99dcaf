-- Requests read from the file BENCH_REQUESTS (written by bench/applications), one per line,
-- tab-separated: METHOD, PATH, bearer TOKEN, IF-MATCH, BODY (JSON; the last three may be
-- empty). With BENCH_PARTITION=1 every thread sends only its own share of the lines, once
-- each in turn (for requests that change an application). BENCH_ACCEPT, when set, is every
-- request's Accept header (bench/billing asks for the PDF bill).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local entries = {}
local accept = os.getenv("BENCH_ACCEPT")
for line in io.lines(os.getenv("BENCH_REQUESTS")) do
  local method, path, token, if_match, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  if method then
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if if_match ~= "" then headers["If-Match"] = if_match end
    if accept and accept ~= "" then headers["Accept"] = accept end
    if body ~= "" then
      headers["Content-Type"] = "application/json"
    else
      body = nil
    end
    table.insert(entries, { method = method, path = path, headers = headers, body = body })
  end
end
dofile(dir .. "common.lua").install(entries, { partition = os.getenv("BENCH_PARTITION") == "1" })
