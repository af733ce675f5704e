package io.trellis.ingress.event;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An event read back from the spool, with its position there (unique and increasing).
 *
 * <p>The spool's delivery keeps each event in its spool encoding, one byte array, and decodes it
 * when a sink asks for {@link #event()}. A sink batch can hold tens of thousands of events for up
 * to a second (ClickHouse inserts of 50,000 rows): decoded, every event is some thirty-five
 * objects, and a batch of them outlived the young collections that ran while it filled, so the
 * collector copied it again and again. Held encoded, the same batch is two objects per event and
 * about half the bytes. {@link #event()} decodes anew on each call; sinks read each event once per
 * write attempt.
 *
 * <p>Immutable and thread-safe.
 */
public final class SpooledEvent {
  private final long offset;
  /* Exactly one of the two is set. */
  private final TrafficEvent event;
  private final byte[] encoded;

  /** The spool's enrichments shared by its sinks, or null. */
  private final EnrichmentCache enrichments;

  /* Where the organization is in encoded (EventCodec.checkFindingOrganization). */
  private final long organizationAt;

  /** An event already decoded (tests, tools). */
  public SpooledEvent(long offset, TrafficEvent event) {
    if (event == null) {
      throw new NullPointerException("event is null");
    }
    this.offset = offset;
    this.event = event;
    this.encoded = null;
    this.enrichments = null;
    this.organizationAt = EventCodec.POSITIONAL;
  }

  private SpooledEvent(long offset, byte[] encoded, EnrichmentCache enrichments) {
    this.offset = offset;
    this.event = null;
    this.encoded = encoded;
    this.enrichments = enrichments;
    this.organizationAt = EventCodec.checkFindingOrganization(encoded);
  }

  /**
   * An event in its spool encoding ({@link EventCodec}); the array is kept, not copied.
   *
   * @throws IllegalArgumentException when the bytes are not a well-formed encoding
   */
  public static SpooledEvent encoded(long offset, byte[] encoded) {
    return new SpooledEvent(offset, encoded, null);
  }

  /**
   * An event in its spool encoding whose enrichment is shared through {@code enrichments} with
   * every other sink that reads the same offset of the same spool.
   *
   * @throws IllegalArgumentException when the bytes are not a well-formed encoding
   */
  public static SpooledEvent encoded(long offset, byte[] encoded, EnrichmentCache enrichments) {
    return new SpooledEvent(offset, encoded, requireNonNull(enrichments, "enrichments is null"));
  }

  public long offset() {
    return offset;
  }

  /** The event, decoded on each call when it is held encoded. */
  public TrafficEvent event() {
    if (event != null) {
      return event;
    }
    TrafficEvent e = EventCodec.decode(encoded);
    Enrichments.decoded(e, offset, enrichments, encoded);
    return e;
  }

  /** The event's id, without decoding the rest. */
  public String eventId() {
    return event != null ? event.eventId() : EventCodec.eventId(encoded);
  }

  /**
   * The event's organization, without decoding the rest: from where the check of the record found
   * it.
   */
  public String organizationId() {
    if (event != null) {
      return event.organizationId();
    }
    if (organizationAt == EventCodec.POSITIONAL) {
      return EventCodec.organizationId(encoded);
    }
    if (organizationAt == EventCodec.NOT_FOUND) {
      return "";
    }
    return new String(
        encoded, (int) (organizationAt >>> 32), (int) organizationAt, StandardCharsets.UTF_8);
  }

  /** The event's time (epoch milliseconds), without decoding it. */
  public long timestamp() {
    return event != null ? event.timestamp() : EventCodec.timestamp(encoded);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof SpooledEvent other) || offset != other.offset) {
      return false;
    }
    if (encoded != null && other.encoded != null) {
      return Arrays.equals(encoded, other.encoded);
    }
    return event().equals(other.event());
  }

  @Override
  public int hashCode() {
    return Long.hashCode(offset) * 31 + event().hashCode();
  }

  @Override
  public String toString() {
    return "SpooledEvent[offset=" + offset + ", event=" + event() + "]";
  }
}
