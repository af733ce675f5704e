-- Shared by the bench scripts: pacing to a fixed rate (BENCH_RATE, requests/s over all threads)
-- and one machine-readable result line that bench/run.sh parses.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
  local s = f:read("*a")
  f:close()
  return (s:gsub("%s+$", ""))
end

function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    if default == nil then
      error("missing environment variable " .. name)
    end
    return default
  end
  return v
end

-- A client address behind a trusted proxy (the service run with capture.trusted-proxies), so that
-- geo enrichment looks up a real address rather than loopback.
local xff = os.getenv("BENCH_XFF")
if xff ~= nil and xff ~= "" then
  wrk.headers["X-Forwarded-For"] = xff
end

-- Each thread hands out send slots at rate/threads per second to whichever of its connections is
-- free, so the offered rate does not depend on the response time. A thread that falls behind
-- (the server is slower than the rate) starts again from now rather than bursting to catch up.
local rate = tonumber(env("BENCH_RATE", "0"))
if rate > 0 then
  local interval = tonumber(env("BENCH_THREADS", "2")) * 1000.0 / rate
  local next_slot = nil
  function delay()
    local now = now_ms()
    if next_slot == nil or next_slot < now - interval then
      next_slot = now
    end
    local d = next_slot - now
    next_slot = next_slot + interval
    return math.floor(d)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d " ..
    "timeout=%d p50_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max))
end
