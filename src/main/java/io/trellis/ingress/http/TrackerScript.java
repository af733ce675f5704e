package io.trellis.ingress.http;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPOutputStream;

/**
 * Serves {@code GET /trellis.js}, the browser tracker built from {@code clients/tracker/}. The
 * script and its gzip form are made once at start; the ETag is a hash of the script, so a cached
 * copy is revalidated with a 304 and a new build reaches browsers within the cache lifetime. Any
 * site may load it: the answer allows every origin and carries no cookies. Immutable.
 */
final class TrackerScript {
  static final String PATH = "/trellis.js";

  /** A day: sites include the script on every page, and a new build is picked up by the next. */
  static final String CACHE_CONTROL = "public, max-age=86400";

  private final Buffer plain;
  private final Buffer gzipped;
  private final String etag;

  TrackerScript(byte[] script) {
    this.plain = Buffer.buffer(script);
    this.gzipped = Buffer.buffer(gzip(script));
    this.etag = "\"" + sha256(script).substring(0, 32) + "\"";
  }

  /** The script built into the jar. */
  static TrackerScript load() {
    try (InputStream in = TrackerScript.class.getResourceAsStream("/tracker/trellis.js")) {
      if (in == null) {
        throw new IllegalStateException("tracker/trellis.js missing from the classpath");
      }
      return new TrackerScript(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static boolean matches(HttpServerRequest req) {
    return PATH.equals(req.path())
        && (req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD);
  }

  void serve(HttpServerRequest req) {
    HttpServerResponse res = req.response();
    MultiMap h = res.headers();
    // The build is ASCII (esbuild escapes the rest), so no charset is needed.
    h.set(HttpHeaders.CONTENT_TYPE, "text/javascript");
    h.set(HttpHeaders.CACHE_CONTROL, CACHE_CONTROL);
    h.set(HttpHeaders.ETAG, etag);
    h.set(HttpHeaders.VARY, "Accept-Encoding");
    h.set(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    h.set("Cross-Origin-Resource-Policy", "cross-origin");
    h.set("X-Content-Type-Options", "nosniff");
    if (etagMatches(req.getHeader(HttpHeaders.IF_NONE_MATCH))) {
      res.setStatusCode(304).end();
      return;
    }
    Buffer body = plain;
    String accepted = req.getHeader(HttpHeaders.ACCEPT_ENCODING);
    if (accepted != null && accepted.toLowerCase(java.util.Locale.ROOT).contains("gzip")) {
      h.set(HttpHeaders.CONTENT_ENCODING, "gzip");
      body = gzipped;
    }
    res.setStatusCode(200);
    if (req.method() == HttpMethod.HEAD) {
      h.set(HttpHeaders.CONTENT_LENGTH, Integer.toString(body.length()));
      res.end();
    } else {
      res.end(body);
    }
  }

  private boolean etagMatches(String ifNoneMatch) {
    if (ifNoneMatch == null) {
      return false;
    }
    for (String tag : ifNoneMatch.split(",")) {
      String t = tag.trim();
      if (t.startsWith("W/")) {
        t = t.substring(2);
      }
      if (t.equals(etag) || t.equals("*")) {
        return true;
      }
    }
    return false;
  }

  String etag() {
    return etag;
  }

  private static byte[] gzip(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(data.length / 2);
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "TrackerScript{" + plain.length() + " bytes, etag=" + etag + "}";
  }
}
