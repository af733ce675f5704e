-- POST /events: one realistic ~400-byte JSON event, as a browser SDK sends it.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/events"
wrk.body = read_file(env("BENCH_PAYLOAD"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. env("BENCH_KEY")
wrk.headers["User-Agent"] = "analytics-js/5.2.0 (Mozilla/5.0 (Windows NT 10.0; Win64; x64))"
wrk.headers["Origin"] = "https://shop.example.com"

dofile(os.getenv("BENCH_LUA_DIR") .. "/varied.lua")
varied.serve(10000, function()
  local v = varied.visit()
  return wrk.format("POST", "/events", varied.headers(v), varied.event(v))
end)
