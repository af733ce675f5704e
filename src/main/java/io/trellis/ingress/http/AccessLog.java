package io.trellis.ingress.http;

import io.trellis.ingress.capture.IpAnonymizer;
import io.trellis.ingress.ops.LogSetup;
import io.vertx.core.http.HttpServerRequest;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One line per capture request when {@code log.access} is on: method, path (never the query, which
 * may carry a key; a key in the path is redacted), status, refusal reason, bytes written, latency
 * and the socket peer's address, and the client's when a trusted proxy named another one ({@code
 * client=}, once the request got as far as reading it), each anonymized like the stored {@code ip}
 * whenever any organization's addresses are ({@code capture.ip-anonymize}, {@code
 * capture.ip-anonymize-organizations}): a line is not tied to one organization. Headers, bodies and
 * credentials are never logged.
 */
final class AccessLog {
  private static final Logger log = LoggerFactory.getLogger(LogSetup.ACCESS_LOGGER);

  /** Path segments this long may be keys or tokens; shorter ones are words such as "track". */
  private static final int SECRET_LENGTH = 20;

  private AccessLog() {}

  static void record(
      HttpServerRequest req, HttpMetrics.Outcome outcome, int status, boolean anonymize) {
    if (!log.isInfoEnabled()) {
      return;
    }
    long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - outcome.startNanos);
    String peer = req.remoteAddress() == null ? "-" : req.remoteAddress().hostAddress();
    // Only a trusted proxy's client differs from the peer.
    String client =
        outcome.client == null || outcome.client.isEmpty() || outcome.client.equals(peer)
            ? null
            : outcome.client;
    if (anonymize) {
      peer = peer.equals("-") ? peer : IpAnonymizer.anonymizeOrEmpty(peer);
      client = client == null ? null : IpAnonymizer.anonymizeOrEmpty(client);
    }
    String path = loggedPath(req.path());
    String version =
        switch (req.version()) {
          case HTTP_1_0 -> "HTTP/1.0";
          case HTTP_1_1 -> "HTTP/1.1";
          case HTTP_2 -> "HTTP/2";
        };
    String reason = outcome.reason == null ? "-" : outcome.reason;
    long bytes = req.response().bytesWritten();
    String ms = String.format(Locale.ROOT, "%.3f", micros / 1000.0);
    LoggingEventBuilder line =
        log.atInfo()
            .addKeyValue("method", req.method().name())
            .addKeyValue("path", path)
            .addKeyValue("status", status)
            .addKeyValue("reason", reason)
            .addKeyValue("bytes", bytes)
            .addKeyValue("duration_ms", micros / 1000.0)
            .addKeyValue("peer", peer);
    if (client != null) {
      line = line.addKeyValue("client", client);
    }
    line.log(
        "{} {} {} {} reason={} bytes={} ms={} peer={}{}",
        req.method(),
        path,
        version,
        status,
        reason,
        bytes,
        ms,
        peer,
        client == null ? "" : " client=" + client);
  }

  /**
   * The path as logged. A route's path is logged as it is; any other path may carry a key that a
   * client put in it ({@code /track/trk_…}), so a segment that could be one is masked.
   */
  static String loggedPath(String path) {
    if (path == null) {
      return "-";
    }
    if (Routes.find(path) != null) {
      return Routes.loggable(path);
    }
    String[] segments = Routes.loggable(path).split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      String s = segments[i];
      if (s.length() >= SECRET_LENGTH || s.toLowerCase(Locale.ROOT).contains("trk_")) {
        segments[i] = "[redacted]";
      }
    }
    return String.join("/", segments);
  }
}
