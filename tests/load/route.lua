-- One route of the load mix for wrk: `wrk ... -s route.lua URL -- ROUTE DIR`.
-- DIR is what `kyoso load-seed` wrote (load.env, queries.txt, need_ids.txt,
-- offer_ids.txt, partner_keys.txt). ROUTE is one of: search, needs_list, need_page,
-- offer_page, matches, submit, inbox, deadlines, groonga (the peer's /d/select).
-- done() prints one JSON line: requests, req/s, latency percentiles (ms), non-2xx,
-- socket errors, and the count of each status seen (201s for submit).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function lines(path)
  local t = {}
  local f = io.open(path)
  if f then
    for l in f:lines() do
      if l ~= "" then t[#t + 1] = l end
    end
    f:close()
  end
  return t
end

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function pick(list)
  counter = counter + 1
  return list[(counter % #list) + 1]
end

local fields = { "safety", "childcare_education", "health_welfare", "environment_energy",
  "infrastructure_mobility", "economy_industry", "culture_sports_tourism", "governance_dx" }

function init(args)
  route = args[1]
  local dir = args[2]
  env = {}
  for _, l in ipairs(lines(dir .. "/load.env")) do
    local k, v = l:match("^([A-Z_]+)=(.*)$")
    if k then env[k] = v end
  end
  queries = lines(dir .. "/queries.txt")
  needs = lines(dir .. "/need_ids.txt")
  offers = lines(dir .. "/offer_ids.txt")
  partner_keys = lines(dir .. "/partner_keys.txt")
  -- Threads start at different places of the lists, so they do not ask the same thing.
  counter = (id or 0) * 7919
  statuses = {}
end

local function get(path, key)
  local headers = { ["Accept"] = "application/json" }
  if key then headers["Authorization"] = "Bearer " .. key end
  return wrk.format("GET", path, headers)
end

function request()
  if route == "search" then
    -- 10 hits, as Groonga is asked for below.
    return get("/api/v1/search?limit=10&q=" .. urlencode(pick(queries)), env.PARTNER_KEY)
  elseif route == "groonga" then
    -- The same work as kyoso's search: title weighted over body, 10 hits, HTML
    -- snippets of both fields, the facets kyoso's search page returns as drilldowns.
    local q = urlencode(pick(queries))
    return wrk.format("GET", "/d/select?table=Docs&match_columns=title*5%7C%7Cbody&query=" .. q
      .. "&output_columns=_key,_score,type,snippet_html(title),snippet_html(body)"
      .. "&sort_keys=-_score&limit=10"
      .. "&drilldown=policy_field,municipality,zone,partner_kind,status,doc_type&drilldown_limit=20")
  elseif route == "needs_list" then
    counter = counter + 1
    local f = fields[(counter % #fields) + 1]
    return get("/api/v1/needs?status=open&policy_field=" .. f .. "&limit=20", env.PARTNER_KEY)
  elseif route == "need_page" then
    return get("/api/v1/needs/" .. pick(needs), env.PARTNER_KEY)
  elseif route == "offer_page" then
    return get("/api/v1/offers/" .. pick(offers), env.PARTNER_KEY)
  elseif route == "matches" then
    return get("/api/v1/needs/" .. pick(needs) .. "/matches", env.PARTNER_KEY)
  elseif route == "submit" then
    local need = pick(needs)
    local key = pick(partner_keys)
    local body = '{"need_id":' .. need .. ',"title":"負荷試験からの提案 ' .. counter
      .. '","body":"貴市の課題に対し、当社のサービスを活用した実証実験をご提案します。費用は当社が負担します。",'
      .. '"declarations":{"no_antisocial_forces":true,"consent_to_contact":true}}'
    return wrk.format("POST", "/api/v1/proposals",
      { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
  elseif route == "inbox" then
    return get("/api/v1/proposals?limit=50", env.DESK_KEY)
  elseif route == "deadlines" then
    return get("/api/v1/desk/deadlines", env.DESK_KEY)
  end
  return get("/healthz")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do counts[k] = (counts[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,'
      .. '"non_2xx":%d,"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
