-- Shared by the wrk scenario scripts (loaded with dofile by each of them).
--
--   * cycles over a list of request paths (one pre-built request per path);
--   * counts failed requests: wrk's own count of responses with status > 399 (the scenarios
--     expect 2xx and the API sends no 1xx or 3xx to them); with BENCH_SAMPLES=1 (the
--     warm-ups) a response() hook counts every non-2xx and keeps the first few (status and
--     body) to print with the results. The hook is off otherwise because wrk then builds a
--     Lua table of every response's headers and a string of its body: at 13,000 req/s on two
--     cores that cost 15 % of the peak (12,556-12,824 req/s with it, 14,244-14,999 without);
--   * paces requests when BENCH_RATE (total req/s) is set: wrk has no rate option,
--     so delay() hands each request of a thread the next slot of a thread-wide
--     schedule, one slot every BENCH_THREADS*1000/BENCH_RATE ms. Slots missed
--     by more than 2 ms (no connection free: server or machine saturated) are
--     dropped, not sent later in a burst, so the achieved rate, which is what
--     gets reported, may be below the target;
--   * done() prints one machine-readable line that bench/run parses:
--     BENCH requests=N duration_s=S rps=R p50_ms=A p99_ms=B non2xx=C socket_errors=D
local M = {}

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local CLOCK_MONOTONIC = 1

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- paths: request paths, or tables { path =, method =, headers =, body = } for requests
-- that differ in more than their path.
-- opts (optional): { method = "POST", headers = {...}, body = "..." } for every request;
-- partition = true gives each thread only its share of the requests (for requests that
-- must not be sent twice, such as moving an application).
function M.install(paths, opts)
  opts = opts or {}
  local rate = tonumber(os.getenv("BENCH_RATE") or "") or 0
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "") or 1
  local threads = {} -- setup/done environment only

  function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
  end

  local requests, i = {}, 0
  function init(args)
    for k, p in ipairs(paths) do
      if not opts.partition or (k - 1) % nthreads == (id or 0) then
        if type(p) == "table" then
          table.insert(requests, wrk.format(p.method, p.path, p.headers, p.body))
        else
          table.insert(requests, wrk.format(opts.method, p, opts.headers, opts.body))
        end
      end
    end
    i = opts.partition and 0 or (id or 0) % #requests -- threads start at different paths
    non2xx = 0 -- globals: read by done() through thread:get
    samples = ""
    wrapped = 0
  end

  function request()
    i = i % #requests + 1
    if opts.partition and i == #requests then
      wrapped = 1 -- the next request repeats this thread's first one
    end
    return requests[i]
  end

  local sampling = os.getenv("BENCH_SAMPLES") == "1"
  if sampling then
    function response(status, headers, body)
      if status < 200 or status > 299 then
        non2xx = non2xx + 1
        if non2xx <= 3 then
          samples = samples .. string.format("non-2xx sample: %d %s\n", status, (body or ""):sub(1, 300))
        end
      end
    end
  end

  -- delay() is only defined for paced runs: wrk checks whether it exists, and
  -- a delay of 0 would still cost a timer per request in peak runs.
  if rate > 0 then
    local interval = nthreads * 1000 / rate
    -- wrk's timers have 1 ms resolution: a slot up to 2 ms late is still
    -- sent (small catch-up); later than that, the schedule restarts from now.
    local max_lag = math.max(interval, 2)
    local next_slot
    function delay()
      local t = now_ms()
      if next_slot == nil or next_slot < t - max_lag then
        next_slot = t
      else
        next_slot = next_slot + interval
      end
      return math.max(0, next_slot - t) -- ms (wrk truncates to whole ms)
    end
  end

  function done(summary, latency, _)
    local non = sampling and 0 or summary.errors.status
    for _, t in ipairs(threads) do
      if sampling then non = non + (t:get("non2xx") or 0) end
      io.write(t:get("samples") or "")
      if (t:get("wrapped") or 0) > 0 then
        io.write("warning: a thread sent all its share of the requests; the rest were repeats\n")
      end
    end
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format(
      "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      non, e.connect + e.read + e.write + e.timeout))
  end
end

return M
