package io.trellis.ingress.http;

import io.trellis.ingress.base.JsonText;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;

/**
 * Writes the service's answers: JSON bodies, errors, the tracking GIF. Fixed header names and
 * values are ASCII strings made once: their hash and bytes are ready when every answer is encoded.
 */
final class Responses {
  private static final Buffer GIF_BUFFER = Buffer.buffer(TransparentGif.bytes());
  private static final CharSequence CONTENT_TYPE = HttpHeaders.CONTENT_TYPE;
  private static final CharSequence CACHE_CONTROL = HttpHeaders.CACHE_CONTROL;
  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence GIF = HttpHeaders.createOptimized("image/gif");
  private static final CharSequence NO_STORE = HttpHeaders.createOptimized("no-store");
  private static final CharSequence NEVER_CACHE =
      HttpHeaders.createOptimized("no-cache, no-store, must-revalidate");
  private static final CharSequence PRAGMA = HttpHeaders.createOptimized("Pragma");
  private static final CharSequence NO_CACHE = HttpHeaders.createOptimized("no-cache");
  private static final CharSequence EXPIRES = HttpHeaders.createOptimized("Expires");
  private static final CharSequence ZERO = HttpHeaders.createOptimized("0");
  private static final Buffer OPENAPI = loadOpenApi();

  private Responses() {}

  static Future<Void> json(HttpServerResponse res, int status, String json) {
    return json(res, status, Buffer.buffer(json));
  }

  static void ok(HttpServerResponse res, String eventId) {
    ok(res, eventId, false);
  }

  /*
   * The answer to one accepted event has a fixed shape around its id: the bytes before and after
   * it are made once, and each answer is one array copied into the response's buffer, with no
   * String to build and encode again.
   */
  private static final byte[] OK_HEAD = ascii("{\"status\":\"ok\",\"event_id\":\"");
  private static final byte[] OK_SEGMENT_HEAD =
      ascii("{\"status\":\"ok\",\"success\":true,\"event_id\":\"");
  private static final byte[] OK_TAIL = ascii("\"}");

  /**
   * The answer to one accepted event; {@code segment} adds {@code "success":true}, the answer
   * Segment's own API gives.
   */
  static void ok(HttpServerResponse res, String eventId, boolean segment) {
    if (res.ended() || res.closed()) {
      return;
    }
    if (!needsNoEscape(eventId)) {
      // Event ids are canonical UUIDs; anything else goes through the escaping path.
      StringBuilder sb = new StringBuilder(80).append("{\"status\":\"ok\",");
      if (segment) {
        sb.append("\"success\":true,");
      }
      sb.append("\"event_id\":");
      JsonText.quote(sb, eventId).append('}');
      json(res, 200, sb.toString());
      return;
    }
    byte[] head = segment ? OK_SEGMENT_HEAD : OK_HEAD;
    int n = eventId.length();
    byte[] out = new byte[head.length + n + OK_TAIL.length];
    System.arraycopy(head, 0, out, 0, head.length);
    for (int i = 0; i < n; i++) {
      out[head.length + i] = (byte) eventId.charAt(i);
    }
    System.arraycopy(OK_TAIL, 0, out, head.length + n, OK_TAIL.length);
    json(res, 200, Buffer.buffer(out));
  }

  static Future<Void> json(HttpServerResponse res, int status, Buffer json) {
    if (res.ended() || res.closed()) {
      return Future.succeededFuture();
    }
    res.setStatusCode(status);
    MultiMap h = res.headers();
    h.set(CONTENT_TYPE, JSON);
    h.set(CACHE_CONTROL, NO_STORE);
    return res.end(json);
  }

  /** True when every char is printable ASCII other than a quote or backslash: one byte each. */
  private static boolean needsNoEscape(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
        return false;
      }
    }
    return true;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static void gif(HttpServerResponse res) {
    if (res.ended() || res.closed()) {
      return;
    }
    MultiMap h = res.headers();
    h.set(CONTENT_TYPE, GIF);
    h.set(CACHE_CONTROL, NEVER_CACHE);
    h.set(PRAGMA, NO_CACHE);
    h.set(EXPIRES, ZERO);
    res.setStatusCode(200).end(GIF_BUFFER);
  }

  static void openApi(HttpServerResponse res) {
    res.putHeader("Content-Type", "application/yaml").setStatusCode(200).end(OPENAPI);
  }

  private static Buffer loadOpenApi() {
    try (java.io.InputStream in = Responses.class.getResourceAsStream("/openapi.yaml")) {
      return Buffer.buffer(in.readAllBytes());
    } catch (java.io.IOException | NullPointerException e) {
      throw new IllegalStateException("openapi.yaml missing from the classpath", e);
    }
  }

  static Future<Void> error(HttpServerResponse res, HttpError error) {
    if (res.ended() || res.closed()) {
      return Future.succeededFuture();
    }
    if (error.retryAfterSeconds() > 0) {
      res.putHeader("Retry-After", Long.toString(error.retryAfterSeconds()));
    }
    StringBuilder sb = new StringBuilder(128).append("{\"status\":\"error\",\"error\":");
    JsonText.quote(sb, error.code()).append(",\"message\":");
    JsonText.quote(sb, error.message()).append('}');
    return json(res, error.status(), sb.toString());
  }

  /** Answers and closes the connection: the rest of the request will not be read. */
  static Future<Void> errorAndClose(HttpServerResponse res, HttpError error) {
    if (!res.ended() && !res.closed()) {
      res.putHeader("Connection", "close");
    }
    return error(res, error);
  }

  /** A 302 to a checked target; never cached, since each click must reach the service. */
  static void redirect(HttpServerResponse res, String location, String eventId) {
    if (res.ended() || res.closed()) {
      return;
    }
    MultiMap h = res.headers();
    h.set("Location", location);
    h.set(CACHE_CONTROL, NO_STORE);
    h.set(CONTENT_TYPE, JSON);
    StringBuilder sb = new StringBuilder(128).append("{\"status\":\"ok\",\"event_id\":");
    JsonText.quote(sb, eventId).append(",\"location\":");
    JsonText.quote(sb, location).append('}');
    res.setStatusCode(302).end(sb.toString());
  }
}
