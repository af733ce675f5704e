package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.config.Durations;
import io.trellis.ingress.config.UrlSecrets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a sink going down and coming back: one WARN when a write first fails with a transient error
 * (the store is unreachable, times out, or answers with a server error), one INFO when a write
 * succeeds again, with how long the sink was down, how many attempts failed, and how far behind it
 * was at that moment. The retries in between are counted ({@code trellis.sink.retries}) and logged
 * at DEBUG only, so an outage of an hour is two lines, not one per retry.
 *
 * <p>Not thread-safe: used by the delivery thread of one sink.
 */
final class SinkOutage {
  private static final Logger log = LoggerFactory.getLogger(SinkDelivery.class);

  private final String sink;
  private long downSinceMillis;
  private long failedAttempts;

  SinkOutage(String sink) {
    this.sink = requireNonNull(sink, "sink is null");
  }

  /** A write failed with a transient error; logs when this starts an outage. */
  void failed(String error, long lagEvents) {
    failedAttempts++;
    if (downSinceMillis != 0) {
      return;
    }
    // A store's error may quote its URL, credentials included.
    String reason = UrlSecrets.mask(String.valueOf(error));
    downSinceMillis = System.currentTimeMillis();
    log.atWarn()
        .addKeyValue("event", "sink_down")
        .addKeyValue("sink", sink)
        .addKeyValue("reason", reason)
        .addKeyValue("lag_events", lagEvents)
        .log(
            "Sink {} is down: {}. {} events wait in the spool for it; the write is retried with"
                + " backoff",
            sink,
            reason,
            lagEvents);
  }

  /** A write succeeded; logs when this ends an outage. */
  void stored(long lagEvents, double lagSeconds) {
    if (downSinceMillis == 0) {
      return;
    }
    Duration down = Duration.ofMillis(System.currentTimeMillis() - downSinceMillis);
    long attempts = failedAttempts;
    downSinceMillis = 0;
    failedAttempts = 0;
    log.atInfo()
        .addKeyValue("event", "sink_recovered")
        .addKeyValue("sink", sink)
        .addKeyValue("down_seconds", down.toMillis() / 1000.0)
        .addKeyValue("failed_attempts", attempts)
        .addKeyValue("lag_events", lagEvents)
        .addKeyValue("lag_seconds", lagSeconds)
        .log(
            "Sink {} is back after {} ({} failed attempts); lag at recovery: {} events, oldest {}"
                + " old",
            sink,
            Durations.elapsed(down),
            attempts,
            lagEvents,
            Durations.elapsed(Duration.ofMillis((long) (lagSeconds * 1000))));
  }

  boolean down() {
    return downSinceMillis != 0;
  }
}
