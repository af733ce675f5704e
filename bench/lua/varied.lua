-- Varied traffic (BENCH_TRAFFIC=varied): requests that differ as a site's real visitors do, so
-- that what the service keeps from one event to the next (the user-agent and address caches, the
-- per-thread memos of a request's headers and a page's terms) is measured at real hit rates, not
-- at the 100% of one repeated request.
--
-- Each wrk thread builds BENCH_VARIED_REQUESTS requests at start (seeded by its thread number, so
-- a run is repeatable) and sends them in turn, each with a user agent and an address drawn anew:
-- the agents' long tail is not cut to the requests built, and a request costs wrk two string
-- joins.
--
-- - User agents: BENCH_AGENTS distinct strings (default 20,000: desktop and mobile Chrome, Safari
--   on iPhone, Firefox, in-app browsers, crawlers), drawn by a Zipf law of exponent 1: the most
--   common agent is about a tenth of the traffic and half of it comes from the first hundred,
--   with a long tail past the user-agent cache's 10,000 entries.
-- - Pages: 5,000 product pages (Zipf too), with and without campaign parameters and click ids,
--   reached from search, social, email, the site itself or nothing.
-- - Visitors: a new user id and session id on every event.
-- - Client addresses (X-Forwarded-For, only when BENCH_XFF is set): 50,000 addresses (Zipf).

varied = {}

local function zipf(n)
  local cumulative, total = {}, 0
  for r = 1, n do
    total = total + 1 / r
    cumulative[r] = total
  end
  return function()
    local x, lo, hi = math.random() * total, 1, n
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cumulative[mid] < x then lo = mid + 1 else hi = mid end
    end
    return lo
  end
end

local ANDROID_MODELS = { "SM-G991B", "SM-S911B", "SM-A546B", "Pixel 7", "Pixel 8 Pro", "M2101K6G",
  "CPH2451", "moto g(60)", "SM-X700", "2201117TY", "RMX3630", "SM-T500" }
local DESKTOP_OS = { "Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7",
  "X11; Linux x86_64", "X11; CrOS x86_64 14541.0.0" }

-- The i-th distinct user agent (distinct i give distinct strings).
function varied.agent(i)
  local kind, n = i % 10, math.floor(i / 10)
  if kind <= 3 then
    local m = math.floor(n / 4)
    return string.format("Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) " ..
      "Chrome/%d.0.%d.%d Safari/537.36", DESKTOP_OS[n % 4 + 1], 100 + m % 32,
      4000 + math.floor(m / 32), m % 7 * 13)
  elseif kind <= 5 then
    local model = ANDROID_MODELS[n % #ANDROID_MODELS + 1]
    local m = math.floor(n / #ANDROID_MODELS)
    return string.format("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like " ..
      "Gecko) Chrome/%d.0.%d.%d Mobile Safari/537.36", 10 + m % 5, model, 110 + math.floor(m / 5) % 22,
      5000 + math.floor(m / 110), kind)
  elseif kind <= 7 then
    local major, minor = 15 + n % 4, math.floor(n / 4) % 8
    return string.format("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) " ..
      "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E%d Safari/604.1",
      major, minor, major, minor, 148 + math.floor(n / 32) + (kind - 6) * 100000)
  elseif kind == 8 then
    local v = 100 + n % 35
    return string.format("Mozilla/5.0 (%s; rv:%d.0) Gecko/20100101 Firefox/%d.%d",
      DESKTOP_OS[math.floor(n / 35) % 3 + 1], v, v, math.floor(n / 105))
  elseif n % 4 == 3 then
    return string.format("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) " ..
      "Chrome/%d.0.%d.0", 100 + n % 30, math.floor(n / 120))
  else
    return string.format("Mozilla/5.0 (iPhone; CPU iPhone OS 17_%d like Mac OS X) " ..
      "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21E236 [FBAN/FBIOS;FBAV/%d.0.0.%d.%d;" ..
      "FBBV/%d;FBDV/iPhone14,%d;FBMD/iPhone;FBSN/iOS;FBSV/17.%d;FBSS/3;FBCR/;FBID/phone;" ..
      "FBLC/en_US;FBOP/5]", n % 6, 400 + n % 80, math.floor(n / 80), n % 3, 500000000 + n,
      n % 8, n % 6)
  end
end

local SOURCES = {
  { "google", "cpc", "gclid" }, { "facebook", "paid_social", "fbclid" }, { "newsletter", "email" },
  { "bing", "cpc", "msclkid" }, { "partner", "referral" }, {}, {}, {},
}
local REFERRERS = { "https://www.google.com/", "https://www.facebook.com/", "https://t.co/x1",
  "https://mail.example.net/", "https://shop.example.com/", "https://www.bing.com/search?q=widget",
  "https://news.ycombinator.com/", "" }

local pages

-- Where a request's user agent and address go: serve() draws them for each request it sends.
local AGENT, ADDRESS = "\1", "\2"

-- A new visit: a page (with its campaign), a referrer, ids; text values are plain ASCII with
-- nothing to escape in JSON.
function varied.visit()
  pages = pages or zipf(5000)
  local page = pages()
  local source = SOURCES[page % #SOURCES + 1]
  local query = ""
  if source[1] then
    query = "?utm_source=" .. source[1] .. "&utm_medium=" .. source[2] ..
      "&utm_campaign=c" .. (page % 40)
    if source[3] and page % 3 == 0 then
      query = query .. "&" .. source[3] .. "=Cj0K" .. string.format("%08x", math.random(0, 2 ^ 31))
    end
    if page % 5 == 0 then
      query = query .. "&utm_term=t" .. (page % 13) .. "&utm_content=v" .. (page % 3)
    end
  end
  return {
    url = "https://shop.example.com/products/item-" .. page .. query,
    referrer = REFERRERS[math.random(#REFERRERS)],
    user = string.format("u_%010x", math.random(0, 2 ^ 31)),
    session = string.format("s_%010x", math.random(0, 2 ^ 31)),
  }
end

-- One event as a browser SDK sends it, for a visit.
function varied.event(v)
  return string.format('{"event":"%s","user_id":"%s","session_id":"%s","url":"%s",' ..
    '"referrer":"%s","properties":{"product_id":"SKU-%d","price":%d.99,"currency":"USD",' ..
    '"quantity":%d},"context":{"locale":"en-US","screen":{"width":1920,"height":1080}}}',
    ({ "page_view", "add_to_cart", "view_item", "checkout" })[math.random(4)], v.user, v.session,
    v.url, v.referrer, math.random(1, 99999), math.random(1, 300), math.random(1, 5))
end

function varied.escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- The headers of wrk.headers with a visit's referrer, and the places of the agent and address.
function varied.headers(v)
  local h = {}
  for k, value in pairs(wrk.headers) do
    h[k] = value
  end
  h["User-Agent"] = AGENT
  if h["Referer"] ~= nil then
    h["Referer"] = v.referrer ~= "" and v.referrer or nil
  end
  if h["X-Forwarded-For"] ~= nil then
    h["X-Forwarded-For"] = ADDRESS
  end
  return h
end

-- Sends the requests that build(i) returns for i = 1..count, in turn, when traffic is varied.
-- build(i) formats a request from visits and varied.headers, whose agent and address each sending
-- fills.
function varied.serve(count, build)
  if env("BENCH_TRAFFIC", "same") ~= "varied" then
    return
  end
  local n = tonumber(env("BENCH_VARIED_REQUESTS", tostring(count)))
  local parts, next_request = {}, 0
  local agent_list, address_list, agents, addresses = {}, {}, nil, nil
  function setup(thread)
    varied_threads = (varied_threads or 0) + 1
    thread:set("varied_seed", varied_threads)
  end
  function init(args)
    math.randomseed(varied_seed or 1)
    local count_agents = tonumber(env("BENCH_AGENTS", "20000"))
    for i = 1, count_agents do
      agent_list[i] = varied.agent(i)
    end
    for a = 1, 50000 do
      address_list[a] = string.format("%d.%d.%d.%d", 2 + a % 200, math.floor(a / 200) % 250,
        math.floor(a / 50000) % 250 + 1, 1 + a % 251)
    end
    agents, addresses = zipf(count_agents), zipf(50000)
    for i = 1, n do
      -- The request's text between its placeholders, and which placeholder follows each piece
      -- (the headers' order is the table's).
      local r, texts, draws, from = build(i), {}, {}, 1
      while true do
        local at = r:find("[\1\2]", from)
        texts[#texts + 1] = r:sub(from, (at or 0) - 1)
        if not at then
          break
        end
        draws[#draws + 1] = r:byte(at) == 1 and agent_list or address_list
        from = at + 1
      end
      assert(#draws >= 1, "no user agent in a varied request")
      parts[i] = { texts = texts, draws = draws }
    end
  end
  local pieces = {}
  function request()
    next_request = next_request % n + 1
    local p = parts[next_request]
    for k = 1, #p.draws do
      pieces[2 * k - 1] = p.texts[k]
      pieces[2 * k] = p.draws[k] == agent_list and agent_list[agents()] or address_list[addresses()]
    end
    pieces[2 * #p.draws + 1] = p.texts[#p.draws + 1]
    for k = 2 * #p.draws + 2, #pieces do
      pieces[k] = nil
    end
    return table.concat(pieces)
  end
end
