-- GET /pixel: an <img> tag's request, with a browser's headers and the usual query parameters.
-- The key travels in the query, as it must for a pixel.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/pixel?api_key=" .. env("BENCH_KEY") ..
  "&e=pageview&dl=https%3A%2F%2Fshop.example.com%2Fproducts%2Fblue-widget%3Fref%3Dhome" ..
  "&dr=https%3A%2F%2Fwww.google.com%2F&utm_source=newsletter&utm_medium=email" ..
  "&utm_campaign=spring_sale&cid=1234567890.1712345678&sr=1920x1080&ul=en-us&z=" ..
  "8423751960"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 " ..
  "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
wrk.headers["Referer"] = "https://shop.example.com/products/blue-widget?ref=home"
wrk.headers["Cookie"] = "_ga=GA1.1.1234567890.1712345678; _gid=GA1.1.987654321.1712345678; " ..
  "session=s_1f2e3d4c5b"
wrk.headers["Sec-Fetch-Dest"] = "image"
wrk.headers["Sec-Fetch-Mode"] = "no-cors"
wrk.headers["Sec-Fetch-Site"] = "cross-site"
wrk.headers["Connection"] = "keep-alive"

dofile(os.getenv("BENCH_LUA_DIR") .. "/varied.lua")
varied.serve(10000, function()
  local v = varied.visit()
  local h = varied.headers(v)
  h["Cookie"] = "_ga=GA1.1." .. v.user:sub(3) .. ".1712345678; session=" .. v.session
  local path = "/pixel?api_key=" .. env("BENCH_KEY") .. "&e=pageview&dl=" .. varied.escape(v.url) ..
    "&dr=" .. varied.escape(v.referrer) .. "&cid=" .. v.user:sub(3) .. "&sr=1920x1080&ul=en-us&z=" ..
    math.random(0, 2 ^ 31)
  return wrk.format("GET", path, h, nil)
end)
