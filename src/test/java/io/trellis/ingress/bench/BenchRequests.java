package io.trellis.ingress.bench;

import io.trellis.ingress.capture.RequestData;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The requests the bench sends, as the capture step sees them: the same body, headers and query as
 * the wrk scripts under {@code bench/lua} (the event is {@code bench/payloads/event.json}).
 */
final class BenchRequests {
  static final String KEY = "trk_benchkey01_0123456789abcdefghijklmnopqrstuv";

  static final String EVENT =
      "{\"event\":\"add_to_cart\",\"user_id\":\"u_8f3a2c1d9b\",\"session_id\":\"s_1f2e3d4c5b\","
          + "\"url\":\"https://shop.example.com/products/blue-widget?utm_source=google&utm_medium=cpc"
          + "&utm_campaign=spring_sale&gclid=Cj0KCQiA5rGuBhCnARIsAN\","
          + "\"referrer\":\"https://www.google.com/\",\"properties\":{\"product_id\":\"SKU-12345\","
          + "\"price\":29.99,\"currency\":\"USD\",\"quantity\":2},\"context\":{\"locale\":\"en-US\","
          + "\"screen\":{\"width\":1920,\"height\":1080}}}";

  private BenchRequests() {}

  static byte[] eventBody() {
    return EVENT.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] batchBody(int items) {
    StringBuilder sb = new StringBuilder(items * (EVENT.length() + 1) + 2).append('[');
    for (int i = 0; i < items; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(EVENT);
    }
    return sb.append(']').toString().getBytes(StandardCharsets.UTF_8);
  }

  static RequestData post(String path, byte[] body) {
    return new RequestData(
        "POST",
        "http://127.0.0.1:8080" + path,
        List.of(
            Map.entry("Host", "127.0.0.1:8080"),
            Map.entry("Content-Type", "application/json"),
            Map.entry("Authorization", "Bearer " + KEY),
            Map.entry(
                "User-Agent", "analytics-js/5.2.0 (Mozilla/5.0 (Windows NT 10.0; Win64; x64))"),
            Map.entry("Origin", "https://shop.example.com"),
            Map.entry("Content-Length", Integer.toString(body.length))),
        List.of(),
        "127.0.0.1",
        System.currentTimeMillis());
  }

  /** Decoded query parameters in order, as the HTTP layer hands them to capture. */
  static List<Map.Entry<String, String>> query(String query) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (String part : query.split("&")) {
      int eq = part.indexOf('=');
      out.add(
          Map.entry(
              URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8),
              eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8)));
    }
    return out;
  }

  static RequestData pixel() {
    String query =
        "api_key="
            + KEY
            + "&e=pageview&dl=https%3A%2F%2Fshop.example.com%2Fproducts%2Fblue-widget%3Fref%3Dhome"
            + "&dr=https%3A%2F%2Fwww.google.com%2F&utm_source=newsletter&utm_medium=email"
            + "&utm_campaign=spring_sale&cid=1234567890.1712345678&sr=1920x1080&ul=en-us&z=8423751960";
    return new RequestData(
        "GET",
        "http://127.0.0.1:8080/pixel?" + query,
        List.of(
            Map.entry("Host", "127.0.0.1:8080"),
            Map.entry(
                "User-Agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
                    + " Chrome/124.0.0.0 Safari/537.36"),
            Map.entry("Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
            Map.entry("Accept-Language", "en-US,en;q=0.9"),
            Map.entry("Accept-Encoding", "gzip, deflate, br"),
            Map.entry("Referer", "https://shop.example.com/products/blue-widget?ref=home"),
            Map.entry(
                "Cookie",
                "_ga=GA1.1.1234567890.1712345678; _gid=GA1.1.987654321.1712345678;"
                    + " session=s_1f2e3d4c5b"),
            Map.entry("Sec-Fetch-Dest", "image"),
            Map.entry("Sec-Fetch-Mode", "no-cors"),
            Map.entry("Sec-Fetch-Site", "cross-site"),
            Map.entry("Connection", "keep-alive")),
        query(query),
        "127.0.0.1",
        System.currentTimeMillis());
  }
}
