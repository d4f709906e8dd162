-- wrk script: POST /heartbeat with enriched payloads for 10,000 distinct
-- servers (the ten fields of the addon's _build_server_payload plus the
-- heartbeat's status, timestamp and uptime_seconds).
--
-- Usage: wrk -tT -c16 -d10s -s heartbeat.lua http://127.0.0.1:PORT -- SERVERS T [TOKEN]
-- Requests are pre-built in init() so the load generator spends its CPU on
-- sending, not on string formatting.  Thread k sends servers k, k+T, k+2T...
-- so the threads together cycle through every server.

local next_index = 0

function setup(thread)
  thread:set("thread_index", next_index)
  next_index = next_index + 1
end

function init(args)
  local servers = tonumber(args[1]) or 10000
  stride = tonumber(args[2]) or 1
  local token = args[3]
  local headers = { ["Content-Type"] = "application/json" }
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  requests = {}
  for i = 0, servers - 1 do
    local body = string.format(
      '{"server_id":"fleet%05d_odoo-%05d.dev.odoo.com","hostname":"odoo-%05d.dev.odoo.com",' ..
      '"ip_addresses":{"primary":"10.%d.%d.%d","all":["10.%d.%d.%d","172.17.0.2"]},' ..
      '"port":8069,"transport":"http/sse","version":"1.0.0","odoo_version":"17.0",' ..
      '"database":"fleet%05d","capabilities":["call_method","create_record","delete_record",' ..
      '"execute_action","get_model_fields","list_models","read_record","search_read",' ..
      '"update_record"],"odoo_stage":"%s","status":"healthy",' ..
      '"timestamp":"2025-06-01T12:00:00Z","uptime_seconds":%d.25}',
      i, i, i,
      math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256,
      math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256,
      i, ({ "production", "staging", "dev" })[i % 3 + 1], 3600 + i)
    requests[#requests + 1] = wrk.format("POST", "/heartbeat", headers, body)
  end
  cursor = thread_index
end

function request()
  local req = requests[cursor % #requests + 1]
  cursor = cursor + stride
  return req
end

function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
