-- Uploads of one document each (multipart/form-data, part "file"), to the paths of the file
-- BENCH_REQUESTS (written by bench/documents), one per line, tab-separated: PATH, bearer
-- TOKEN. The body is BENCH_UPLOAD_BYTES (1 MiB by default) of a PDF (its magic bytes, then
-- filler), built once per thread.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local size = tonumber(os.getenv("BENCH_UPLOAD_BYTES") or "") or 1048576
local boundary = "guichet-bench-upload-boundary"
local head = "%PDF-1.7\n%\226\227\207\211\n"
local file = head .. string.rep("x", size - #head)
local body = "--" .. boundary .. "\r\n"
  .. "Content-Disposition: form-data; name=\"file\"; filename=\"Beilage.pdf\"\r\n"
  .. "Content-Type: application/pdf\r\n\r\n"
  .. file .. "\r\n--" .. boundary .. "--\r\n"
local entries = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do
  local path, token = line:match("^([^\t]*)\t(.*)$")
  if path then
    table.insert(entries, {
      method = "POST",
      path = path,
      headers = {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
      },
      body = body,
    })
  end
end
dofile(dir .. "common.lua").install(entries)
