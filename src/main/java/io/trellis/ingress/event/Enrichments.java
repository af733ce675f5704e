package io.trellis.ingress.event;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.base.JsonPaths;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The enrichment the schema's derived columns read. {@link EventSchema#EVENTS} is a constant that
 * every store renders, so the enricher behind it is installed once, at start-up, by the composition
 * root from the configuration ({@code enrich.*}); until then nothing is derived.
 *
 * <p>A store renders one event's columns one after another on one thread, so the last event's
 * enrichment is kept per thread: each event is enriched once per store, not once per column. An
 * event a sink decoded from the spool ({@link SpooledEvent#event()}) is looked up in the spool's
 * {@link EnrichmentCache} by its offset, so the sinks that write it share one enrichment.
 * Thread-safe.
 */
public final class Enrichments {
  private static final Logger log = LoggerFactory.getLogger(Enrichments.class);

  private static volatile Function<TrafficEvent, Enrichment> enricher = Enrichment::none;

  private static final ThreadLocal<Last> LAST = ThreadLocal.withInitial(Last::new);

  private static final class Last {
    private TrafficEvent event;
    private Function<TrafficEvent, Enrichment> by;
    private Enrichment enrichment;

    /*
     * The event a SpooledEvent decoded last on this thread, its offset, its spool's cache (or
     * null) and its record.
     */
    private TrafficEvent stored;
    private long offset;
    private EnrichmentCache cache;
    private byte[] record;

    /* Where each field of record is, as EventCodec.decode(record, length, at, previous) noted it. */
    private final long[] at = new long[EventCodec.Field.KNOWN + 1];

    /* The strings of the record before, which the next record's same fields are. */
    private final EventCodec.Previous previous = new EventCodec.Previous();

    /*
     * The two arrays a record held in an arena is decoded from, in turn: one holds the record
     * decoded last (what record and the next decode's previous read), the other takes the next.
     */
    private final byte[][] arrays = {new byte[4096], new byte[4096]};
  }

  private Enrichments() {}

  /** Installs the enricher of this process (the service's, from its configuration). */
  public static void install(Function<TrafficEvent, Enrichment> e) {
    enricher = requireNonNull(e, "enricher is null");
  }

  /**
   * Decodes {@code record}, read from the spool at {@code offset}, on this thread, and keeps it and
   * where its fields are, so that the lines and the enrichment of the event read them from the
   * record without walking it again; {@code cache} is the spool's shared enrichments, or null.
   */
  static TrafficEvent decode(byte[] record, long offset, EnrichmentCache cache) {
    return decode(LAST.get(), record, record.length, offset, cache);
  }

  /**
   * {@link #decode(byte[], long, EnrichmentCache)} of the {@code length} bytes at {@code at} of
   * batch {@code generation} of {@code arena}, copied into an array this thread reuses rather than
   * a new one: a sink decodes every event of a batch once, one after the other.
   */
  static TrafficEvent decode(
      RecordArena arena, int generation, long at, int length, long offset, EnrichmentCache cache) {
    Last last = LAST.get();
    // Not the array of the record decoded last: the next decode compares its fields with it.
    int i = last.record == last.arrays[0] ? 1 : 0;
    if (last.arrays[i].length < length) {
      last.arrays[i] = new byte[Math.max(length, 2 * last.arrays[i].length)];
    }
    byte[] into = last.arrays[i];
    arena.copyTo(generation, at, length, into);
    return decode(last, into, length, offset, cache);
  }

  private static TrafficEvent decode(
      Last last, byte[] record, int length, long offset, EnrichmentCache cache) {
    TrafficEvent e = EventCodec.decode(record, length, last.at, last.previous);
    last.stored = e;
    last.offset = offset;
    last.cache = cache;
    last.record = record;
    return e;
  }

  /**
   * The spool record {@code e} was decoded from, when it is the event decoded last on this thread
   * (a sink renders each event as it decodes it); else null. The enrichment reads the body's fields
   * through the record's {@link EventCodec.Field#BODY_INDEX}. The array may be longer than the
   * record, and changes with the thread's next decode.
   */
  static byte[] recordOf(TrafficEvent e) {
    Last last = LAST.get();
    return last.stored == e ? last.record : null;
  }

  /**
   * Where each field is in {@link #recordOf}{@code (e)}, by tag, as {@link
   * EventCodec#decode(byte[], int, long[], EventCodec.Previous)} noted it; null when {@code e} is
   * not the event decoded last on this thread or its record is of version 1 or 2. The array is this
   * thread's, and changes with its next decode.
   */
  static long[] fieldsOf(TrafficEvent e) {
    Last last = LAST.get();
    return last.stored == e && last.at[0] == 1 ? last.at : null;
  }

  /**
   * The values of the body fields that capture indexed in the record {@code e} was decoded from
   * ({@link EventCodec#indexedBody}), when {@code e} is the event decoded last on this thread and
   * its record holds such an index; else null, and the body is to be parsed.
   */
  public static JsonPaths.Values indexedBody(TrafficEvent e) {
    Last last = LAST.get();
    return last.stored == e ? EventCodec.indexedBody(last.record, last.at) : null;
  }

  /**
   * The enrichment of an event, derived at most once in a row per thread, and once for all sinks
   * when the event was decoded from the spool with a cache.
   */
  public static Enrichment of(TrafficEvent e) {
    Last last = LAST.get();
    Function<TrafficEvent, Enrichment> current = enricher;
    if (last.event != e || last.by != current) {
      last.enrichment = enrich(e, last, current);
      last.event = e;
      last.by = current;
    }
    return last.enrichment;
  }

  /**
   * One event's enrichment; nothing derived when deriving fails. A sink retries a batch that throws
   * until it goes through, so one event that an enrichment cannot handle (a parser's defect, a body
   * built to find one) would hold every sink on it while the spool fills. The event is written with
   * its raw data and empty derived columns instead, which a replay derives again once the defect is
   * fixed.
   */
  private static Enrichment enrich(
      TrafficEvent e, Last last, Function<TrafficEvent, Enrichment> current) {
    try {
      return last.stored == e && last.cache != null
          ? last.cache.get(last.offset, e, current)
          : current.apply(e);
    } catch (RuntimeException ex) {
      log.warn(
          "Enrichment failed for event {}; it is stored with its derived columns empty: {}",
          e.eventId(),
          ex.toString());
      return Enrichment.none(e);
    }
  }
}
