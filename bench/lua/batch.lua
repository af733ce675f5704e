-- POST /batch: BENCH_BATCH_SIZE (100) copies of the ~400-byte event in one JSON array.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local event = read_file(env("BENCH_PAYLOAD"))
local items = {}
for i = 1, tonumber(env("BENCH_BATCH_SIZE", "100")) do
  items[i] = event
end

wrk.method = "POST"
wrk.path = "/batch"
wrk.body = "[" .. table.concat(items, ",") .. "]"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. env("BENCH_KEY")
wrk.headers["User-Agent"] = "trellis-server-sdk/1.4.2 java/17"

-- Varied: each batch is one visitor's (agent, address, user, session), its events on varied pages.
dofile(os.getenv("BENCH_LUA_DIR") .. "/varied.lua")
varied.serve(300, function()
  local v = varied.visit()
  local events = {}
  for i = 1, tonumber(env("BENCH_BATCH_SIZE", "100")) do
    local page = varied.visit()
    page.user, page.session = v.user, v.session
    events[i] = varied.event(page)
  end
  return wrk.format("POST", "/batch", varied.headers(v), "[" .. table.concat(events, ",") .. "]")
end)
