package io.trellis.ingress.http;

import io.trellis.ingress.ops.LogSetup;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per capture request when {@code log.access} is on: method, path (never the query, which
 * may carry a key; a key in the path is redacted), status, refusal reason, bytes written and
 * latency. Headers, bodies and credentials are never logged.
 */
final class AccessLog {
  private static final Logger log = LoggerFactory.getLogger(LogSetup.ACCESS_LOGGER);

  private AccessLog() {}

  static void record(HttpServerRequest req, HttpMetrics.Outcome outcome, int status) {
    if (!log.isInfoEnabled()) {
      return;
    }
    long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - outcome.startNanos);
    String peer = req.remoteAddress() == null ? "-" : req.remoteAddress().hostAddress();
    log.info(
        "{} {} {} {} reason={} bytes={} ms={} peer={}",
        req.method(),
        Routes.loggable(req.path()),
        switch (req.version()) {
          case HTTP_1_0 -> "HTTP/1.0";
          case HTTP_1_1 -> "HTTP/1.1";
          case HTTP_2 -> "HTTP/2";
        },
        status,
        outcome.reason == null ? "-" : outcome.reason,
        req.response().bytesWritten(),
        String.format("%.3f", micros / 1000.0),
        peer);
  }
}
