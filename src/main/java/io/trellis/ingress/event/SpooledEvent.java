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
 * write attempt. The delivery goes one step further and moves the record off the heap ({@link
 * RecordArena#hold}); such an event may be read only until its batch is done.
 *
 * <p>Immutable and thread-safe; one held in a {@link RecordArena} is read on the arena's thread.
 */
public final class SpooledEvent {
  private final long offset;
  /* Exactly one of the two is set. */
  private final TrafficEvent event;
  private final byte[] encoded;

  /*
   * Or the record is in an arena: where, how long, in which of its batches. Where its event id is
   * in the record (EventCodec.checkNoting), so that reading the id copies only the id.
   */
  private final RecordArena arena;
  private final long at;
  private final int length;
  private final int generation;
  private final long eventIdAt;
  private final long timestamp;

  /** The spool's enrichments shared by its sinks, or null. */
  private final EnrichmentCache enrichments;

  /* Where the organization is in the record (EventCodec.checkNoting). */
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
    this.arena = null;
    this.at = 0;
    this.length = 0;
    this.generation = 0;
    this.eventIdAt = EventCodec.POSITIONAL;
    this.timestamp = event.timestamp();
  }

  /**
   * The record {@code bytes[0, length)} checked, kept as the array {@code bytes} when {@code keep}
   * (then exactly the record), else not kept: an arena holds it next ({@link #heldIn}).
   */
  private SpooledEvent(
      long offset, byte[] bytes, int length, boolean keep, EnrichmentCache enrichments) {
    this.offset = offset;
    this.event = null;
    this.encoded = keep ? bytes : null;
    this.enrichments = enrichments;
    // One walk checks the record and finds the two fields read without decoding the rest.
    long[] found = new long[EventCodec.Field.EVENT_ID + 1];
    EventCodec.checkNoting(bytes, length, found);
    this.organizationAt = found[EventCodec.Field.ORGANIZATION_ID];
    this.arena = null;
    this.at = 0;
    this.length = length;
    this.generation = 0;
    this.eventIdAt = found[EventCodec.Field.EVENT_ID];
    this.timestamp = EventCodec.timestamp(bytes);
  }

  /**
   * {@code checked}, whose record is now {@code record} on the heap, or (with {@code record} null)
   * at {@code at} in batch {@code generation} of {@code arena}.
   */
  private SpooledEvent(
      SpooledEvent checked, byte[] record, RecordArena arena, int generation, long at) {
    this.offset = checked.offset;
    this.event = null;
    this.encoded = record;
    this.enrichments = checked.enrichments;
    this.organizationAt = checked.organizationAt;
    this.arena = arena;
    this.at = at;
    this.length = checked.length;
    this.generation = generation;
    this.eventIdAt = checked.eventIdAt;
    this.timestamp = checked.timestamp;
  }

  /**
   * The record {@code bytes[0, length)} checked and its places noted, for {@link
   * RecordArena#hold(long, byte[], int, EnrichmentCache)} to copy and hold: neither decoded nor
   * kept, not to be read until held.
   *
   * @throws IllegalArgumentException when the bytes are not a well-formed encoding
   */
  static SpooledEvent checked(long offset, byte[] bytes, int length, EnrichmentCache enrichments) {
    return new SpooledEvent(offset, bytes, length, false, enrichments);
  }

  /** {@code checked} with its record kept on the heap as {@code record} (exactly its bytes). */
  static SpooledEvent onHeap(SpooledEvent checked, byte[] record) {
    return new SpooledEvent(checked, record, null, 0, 0);
  }

  /** The record, when it is held on the heap; else null. */
  byte[] heapRecord() {
    return encoded;
  }

  /** This event with its record held in {@code arena} ({@link RecordArena#hold}). */
  SpooledEvent heldIn(RecordArena arena, int generation, long at) {
    return new SpooledEvent(this, null, arena, generation, at);
  }

  /** The record's bytes: the array itself on the heap, a fresh copy of one in an arena. */
  private byte[] record() {
    return encoded != null ? encoded : arena.copy(generation, at, 0, length);
  }

  /**
   * An event in its spool encoding ({@link EventCodec}); the array is kept, not copied.
   *
   * @throws IllegalArgumentException when the bytes are not a well-formed encoding
   */
  public static SpooledEvent encoded(long offset, byte[] encoded) {
    return new SpooledEvent(offset, encoded, encoded.length, true, null);
  }

  /**
   * An event in its spool encoding whose enrichment is shared through {@code enrichments} with
   * every other sink that reads the same offset of the same spool.
   *
   * @throws IllegalArgumentException when the bytes are not a well-formed encoding
   */
  public static SpooledEvent encoded(long offset, byte[] encoded, EnrichmentCache enrichments) {
    return new SpooledEvent(
        offset, encoded, encoded.length, true, requireNonNull(enrichments, "enrichments is null"));
  }

  public long offset() {
    return offset;
  }

  /** The event, decoded on each call when it is held encoded. */
  public TrafficEvent event() {
    if (event != null) {
      return event;
    }
    return encoded != null
        ? Enrichments.decode(encoded, offset, enrichments)
        : Enrichments.decode(arena, generation, at, length, offset, enrichments);
  }

  /** The event's id, without decoding the rest. */
  public String eventId() {
    if (event != null) {
      return event.eventId();
    }
    return eventIdAt == EventCodec.POSITIONAL ? EventCodec.eventId(record()) : field(eventIdAt);
  }

  /**
   * The event's organization, without decoding the rest: from where the check of the record found
   * it.
   */
  public String organizationId() {
    if (event != null) {
      return event.organizationId();
    }
    return organizationAt == EventCodec.POSITIONAL
        ? EventCodec.organizationId(record())
        : field(organizationAt);
  }

  /**
   * The string at {@code fieldAt} of the record (offset high, length low; {@link
   * EventCodec#NOT_FOUND}: empty), reading only its bytes from an arena.
   */
  private String field(long fieldAt) {
    if (fieldAt == EventCodec.NOT_FOUND) {
      return "";
    }
    int from = (int) (fieldAt >>> 32);
    int n = (int) fieldAt;
    return encoded != null
        ? new String(encoded, from, n, StandardCharsets.UTF_8)
        : new String(arena.copy(generation, at, from, n), StandardCharsets.UTF_8);
  }

  /** The event's time (epoch milliseconds), without decoding it. */
  public long timestamp() {
    return timestamp;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof SpooledEvent other) || offset != other.offset) {
      return false;
    }
    if (event == null && other.event == null) {
      return Arrays.equals(record(), other.record());
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
