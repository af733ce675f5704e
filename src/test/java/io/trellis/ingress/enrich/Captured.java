package io.trellis.ingress.enrich;

import io.trellis.ingress.capture.CaptureConfig;
import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.capture.RequestData;
import io.trellis.ingress.event.TrafficEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Events built by the real capture step from requests as SDKs send them. */
final class Captured {
  static final EventCapture CAPTURE = new EventCapture(CaptureConfig.defaults());

  private Captured() {}

  /** A JSON body POSTed to an endpoint, received at {@code receivedAt}. */
  static TrafficEvent post(Endpoint endpoint, String body, long receivedAt, String... headerPairs) {
    RequestData req =
        new RequestData(
            "POST",
            "http://in.example/events",
            pairs(headerPairs),
            List.of(),
            "203.0.113.9",
            receivedAt);
    EventCapture.SharedRequest s = CAPTURE.request(req, null);
    return CAPTURE.event(
        s, "acme", endpoint, body, JsonFields.parse(body.getBytes(StandardCharsets.UTF_8)));
  }

  /** A GET with a query (pixels, /track, links), received at {@code receivedAt}. */
  static TrafficEvent get(
      Endpoint endpoint, String query, long receivedAt, String peerIp, String... headerPairs) {
    List<Map.Entry<String, String>> params = new ArrayList<>();
    for (String part : query.split("&")) {
      int eq = part.indexOf('=');
      params.add(Map.entry(decode(part.substring(0, eq)), decode(part.substring(eq + 1))));
    }
    RequestData req =
        new RequestData(
            "GET",
            "http://in.example/pixel?" + query,
            pairs(headerPairs),
            params,
            peerIp,
            receivedAt);
    EventCapture.SharedRequest s = CAPTURE.request(req, null);
    return CAPTURE.event(s, "acme", endpoint, "", null);
  }

  private static String decode(String s) {
    return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** Name and value pairs, {@code name1, value1, name2, value2, ...}, in order. */
  static List<Map.Entry<String, String>> pairs(String... pairs) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      out.add(Map.entry(pairs[i], pairs[i + 1]));
    }
    return out;
  }
}
