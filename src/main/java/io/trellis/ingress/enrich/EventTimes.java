package io.trellis.ingress.enrich;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.EventField;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * The event's own time, as the client saw it, corrected for the client's clock.
 *
 * <p>{@code client_timestamp} is the body's {@code originalTimestamp} or {@code timestamp}, or the
 * {@code ts}/{@code t}/{@code timestamp} parameter, or Snowplow's {@code dtm}; {@code sent_at} is
 * the body's {@code sentAt}/{@code sent_at} or the {@code sent_at}/{@code sentAt}/{@code stm}
 * parameter (a batch envelope's {@code sentAt} is one). Both are ISO-8601 or epoch seconds or
 * milliseconds. {@code event_time} is Segment's rule: {@code received_at - (sent_at -
 * client_timestamp)} when both are known (the device's clock error cancels out), the client's time
 * alone when there is no send time, the receipt time when there is no client time. An {@code
 * event_time} more than {@code maxFuture} after the receipt or more than {@code maxPast} before it
 * is replaced by the receipt time and flagged; the client's value stays in {@code
 * client_timestamp}. Thread-safe (immutable).
 */
final class EventTimes {
  /** Why {@code event_time} has its value. */
  static final String SKEW_CORRECTED = "skew_corrected";

  static final String CLIENT = "client";
  static final String RECEIVED = "received";
  static final String OUT_OF_BOUNDS = "out_of_bounds";

  /** An absent time. */
  static final long NONE = Enrichment.NO_TIME;

  record Times(long clientTimestamp, long sentAt, long eventTime, String source) {}

  private final long maxFutureMillis;
  private final long maxPastMillis;

  EventTimes(Duration maxFuture, Duration maxPast) {
    this.maxFutureMillis = requireNonNull(maxFuture, "maxFuture is null").toMillis();
    this.maxPastMillis = requireNonNull(maxPast, "maxPast is null").toMillis();
  }

  private static final EventField[] CLIENT_PARAMS = {
    EventField.TS, EventField.T, EventField.TIMESTAMP, EventField.DTM
  };
  // "sentAt" as a parameter: a batch envelope's send time (Segment's /v1/batch, analytics-node),
  // kept with each of its events among the query parameters.
  private static final EventField[] SENT_PARAMS = {
    EventField.SENT_AT, EventField.SENT_AT_CAMEL, EventField.STM
  };

  /*
   * Digits with at most one decimal point, or a number as Java prints a large double
   * (1.76486759025E9): a JSON number with a fraction (1764867590.25, epoch seconds as Python's
   * time.time() gives them) is read back from the stored body that way.
   */
  private static final Pattern NUMBER = Pattern.compile("\\d+(\\.\\d*(E\\d+)?)?");

  Times of(EventFields f) {
    long received = f.event().timestamp();
    long client = time(f.body(EventField.ORIGINAL_TIMESTAMP));
    if (client == NONE) {
      client = time(f.body(EventField.TIMESTAMP));
    }
    for (int i = 0; i < CLIENT_PARAMS.length && client == NONE; i++) {
      client = time(f.param(CLIENT_PARAMS[i]));
    }
    if (client == NONE) {
      client = time(f.body(EventField.DTM));
    }
    long sent = time(f.body(EventField.SENT_AT_CAMEL));
    if (sent == NONE) {
      sent = time(f.body(EventField.SENT_AT));
    }
    for (int i = 0; i < SENT_PARAMS.length && sent == NONE; i++) {
      sent = time(f.param(SENT_PARAMS[i]));
    }
    if (sent == NONE) {
      sent = time(f.body(EventField.STM));
    }
    if (client == NONE) {
      return new Times(NONE, sent, received, RECEIVED);
    }
    long eventTime;
    String source;
    if (sent != NONE) {
      eventTime = received - (sent - client);
      source = SKEW_CORRECTED;
    } else {
      eventTime = client;
      source = CLIENT;
    }
    if (eventTime > received + maxFutureMillis || eventTime < received - maxPastMillis) {
      return new Times(client, sent, received, OUT_OF_BOUNDS);
    }
    return new Times(client, sent, eventTime, source);
  }

  /**
   * Epoch milliseconds of an ISO-8601 time (with a zone or offset; without one it is UTC) or of an
   * epoch number (seconds below 10^11, else milliseconds); {@link #NONE} when it is neither. The
   * common forms are read by {@link CommonTimes}, the others by {@code java.time}.
   */
  static long time(String s) {
    if (s == null) {
      return NONE;
    }
    String t = s.trim();
    if (t.isEmpty()) {
      return NONE;
    }
    long epoch = CommonTimes.epoch(t);
    if (epoch != CommonTimes.OTHER) {
      return epoch;
    }
    // Sixteen digits at most, and the same bound on a number written with an exponent.
    boolean exponent = t.indexOf('E') >= 0;
    if (t.length() <= (exponent ? 24 : 16) && NUMBER.matcher(t).matches()) {
      double v;
      try {
        v = Double.parseDouble(t);
      } catch (NumberFormatException e) {
        return NONE;
      }
      if (exponent && !(v < 1e16)) {
        return NONE;
      }
      return (long) (v < 1e11 ? v * 1000 : v);
    }
    if (t.length() < 10 || t.charAt(4) != '-') {
      return NONE;
    }
    String iso = t.length() > 10 && t.charAt(10) == ' ' ? t.replace(' ', 'T') : t;
    long common = CommonTimes.iso(iso);
    return common != CommonTimes.OTHER ? common : javaTime(iso);
  }

  /** Epoch milliseconds of an ISO-8601 date-time by {@code java.time}'s parsers, else NONE. */
  static long javaTime(String iso) {
    try {
      return OffsetDateTime.parse(iso).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      // Without an offset: UTC.
    }
    try {
      return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC).toEpochMilli();
    } catch (DateTimeParseException e) {
      // Not a date-time.
    }
    try {
      return Instant.parse(iso).toEpochMilli();
    } catch (DateTimeParseException e) {
      return NONE;
    }
  }
}
