-- wrk script: every request POSTs a payment with a unique order id and Idempotency-Key.
--   wrk -t1 -c8 -d10s -s bench/accept.lua URL -- API_KEY TAG
-- Prints one JSON line at the end: requests, seconds, non-2xx/3xx and socket errors,
-- and the latency percentiles (ms) from wrk's own distribution.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  api_key = args[1]
  tag = args[2] .. "_" .. index
  headers = {
    ["Authorization"] = "Bearer " .. api_key,
    ["Content-Type"] = "application/json",
  }
end

function request()
  counter = counter + 1
  local order = "wrk_" .. tag .. "_" .. counter
  headers["Idempotency-Key"] = "key_" .. order
  local body = '{"order_id":"' .. order .. '","amount":1000,"currency":"INR","method":"upi",'
    .. '"vpa":"success@upi"}'
  return wrk.format("POST", "/api/v1/payments", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "status_errors": %d, "socket_errors": %d,'
      .. ' "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
