-- Shared by the wrk scenario scripts (loaded with dofile by each of them).
--
--   * cycles over a list of request paths (one pre-built request per path);
--   * counts failed requests: wrk's own count of responses with status > 399 (the scenarios
--     expect 2xx and the API sends no 1xx or 3xx to them); with BENCH_SAMPLES=1 (the
--     warm-ups) a response() hook counts every non-2xx and keeps the first few (status and
--     body) to print with the results. The hook is off in peak runs because wrk then builds
--     a Lua table of every response's headers and a string of its body: at 13,000 req/s on
--     two cores that cost 15 % of the peak (12,556-12,824 req/s with it, 14,244-14,999
--     without);
--   * paces requests when BENCH_RATE (total req/s) is set, with wrk2's algorithm (wrk has no
--     rate option): every thread keeps a fixed schedule, one slot every
--     BENCH_THREADS*1000/BENCH_RATE ms, and never drops a slot: a request whose slot passed
--     while every connection was busy goes out as soon as one is free. Its latency is timed
--     from its slot (or from when it was sent, if wrk's 1 ms timers sent it early), not from
--     when it was sent, so a stall is charged to every request that waited behind it, as oha
--     --latency-correction does (no coordinated omission). The slot travels in the request's
--     X-Request-Id, which guichet echoes; wrk's own latency (timed from the send) is not used
--     then, the percentiles are computed here from every response;
--   * BENCH_TRACE=FILE (paced runs): done() also writes every response's slot (ms on the
--     monotonic clock, as /proc/uptime counts) and latency to FILE, one "slot latency" line
--     each, so that a stall can be placed in time beside vmstat, pidstat or PostgreSQL's log;
--   * done() prints one machine-readable line that bench/run parses:
--     BENCH requests=N duration_s=S rps=R p50_ms=A p99_ms=B p999_ms=C non2xx=D socket_errors=E
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

  local requests, specs, i = {}, {}, 0
  function init(args)
    for k, p in ipairs(paths) do
      if not opts.partition or (k - 1) % nthreads == (id or 0) then
        local spec = type(p) == "table" and p or { method = opts.method, path = p, headers = opts.headers, body = opts.body }
        -- a copy of the headers: paced runs add their X-Request-Id to it
        local headers = {}
        for h, v in pairs(spec.headers or {}) do headers[h] = v end
        spec = { method = spec.method, path = spec.path, headers = headers, body = spec.body }
        table.insert(specs, spec)
        table.insert(requests, wrk.format(spec.method, spec.path, spec.headers, spec.body))
      end
    end
    i = opts.partition and 0 or (id or 0) % #requests -- threads start at different paths
    non2xx = 0 -- globals: read by done() through thread:get
    samples = ""
    wrapped = 0
    latencies = {} -- paced runs: ms from each request's slot to its response
    slots = {} -- with BENCH_TRACE: each of those requests' slot
  end

  local function next_index()
    i = i % #requests + 1
    if opts.partition and i == #requests then
      wrapped = 1 -- the next request repeats this thread's first one
    end
    return i
  end

  local sampling = os.getenv("BENCH_SAMPLES") == "1"
  local trace = os.getenv("BENCH_TRACE")
  local tracing = trace ~= nil and trace ~= ""
  local function count(status, body)
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if sampling and non2xx <= 3 then
        samples = samples .. string.format("non-2xx sample: %d %s\n", status, (body or ""):sub(1, 300))
      end
    end
  end

  if rate <= 0 then
    function request()
      return requests[next_index()]
    end
    if sampling then
      function response(status, headers, body)
        count(status, body)
      end
    end
  else
    -- delay() is only defined for paced runs: wrk checks whether it exists, and a delay of 0
    -- would still cost a timer per request in peak runs.
    local interval = nthreads * 1000 / rate
    local next_slot
    -- slots handed out by delay() and not yet sent, oldest first: wrk calls delay() when a
    -- connection's response is complete and request() when its timer fires, so they are
    -- taken in about the order they were given (timers due in the same loop turn may swap,
    -- which moves a latency by less than a millisecond). A connection's first request has
    -- no slot: it is timed from its send.
    local due, head, tail = {}, 1, 0
    local sent = 0
    function delay()
      local t = now_ms()
      next_slot = next_slot and next_slot + interval or t
      tail = tail + 1
      due[tail] = next_slot
      return math.max(0, next_slot - t) -- ms (wrk truncates to whole ms)
    end
    function request()
      local t = now_ms()
      local start = t
      if head <= tail then
        -- from the slot when it is late; from the send when wrk's timer fired early
        start = math.min(due[head], t)
        due[head] = nil
        head = head + 1
      end
      sent = sent + 1
      local spec = specs[next_index()]
      spec.headers["X-Request-Id"] = string.format("bench.%d.%d.%.3f", id or 0, sent, start)
      return wrk.format(spec.method, spec.path, spec.headers, spec.body)
    end
    function response(status, headers, body)
      count(status, body)
      local rid = headers["x-request-id"] or headers["X-Request-Id"]
      local start = rid and tonumber(rid:match("^bench%.%d+%.%d+%.(.*)$"))
      if start then
        latencies[#latencies + 1] = now_ms() - start
        if tracing then slots[#slots + 1] = start end
      end
    end
  end

  function done(summary, latency, _)
    local hooked = sampling or rate > 0 -- response() counted the failures
    local non = hooked and 0 or summary.errors.status
    local all = {}
    local out = tracing and rate > 0 and io.open(trace, "w") or nil
    for _, t in ipairs(threads) do
      if hooked then non = non + (t:get("non2xx") or 0) end
      io.write(t:get("samples") or "")
      if (t:get("wrapped") or 0) > 0 then
        io.write("warning: a thread sent all its share of the requests; the rest were repeats\n")
      end
      if rate > 0 then
        local at = out and t:get("slots") or {}
        for k, ms in ipairs(t:get("latencies") or {}) do
          all[#all + 1] = ms
          if out then out:write(string.format("%.3f %.3f\n", at[k], ms)) end
        end
      end
    end
    if out then out:close() end
    local p50, p99, p999
    if rate > 0 then
      table.sort(all)
      local function q(p) return #all > 0 and all[math.max(1, math.ceil(#all * p))] or 0 end
      p50, p99, p999 = q(0.5), q(0.99), q(0.999)
      if #all < summary.requests then
        io.write(string.format("warning: %d of %d responses had no slot in their X-Request-Id\n", summary.requests - #all, summary.requests))
      end
    else
      p50, p99, p999 = latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000
    end
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format(
      "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f non2xx=%d socket_errors=%d\n",
      summary.requests, secs, summary.requests / secs, p50, p99, p999,
      non, e.connect + e.read + e.write + e.timeout))
  end
end

return M
