package io.trellis.ingress.capture;

import io.trellis.ingress.base.JsonPaths;
import io.trellis.ingress.base.JsonScanner;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.EventField;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The fields of one JSON object that capture reads, found in one pass over its UTF-8 bytes ({@link
 * JsonPaths}): the top-level names of {@link #NAMES} (event type, ids, UTM, click ids, page URL,
 * the key fields), the scalars {@code ip}, {@code userAgent}, {@code sessionId} of {@code context}
 * and the {@code url}, {@code referrer} of its {@code page} and the UTM of its {@code campaign}
 * (where Segment and RudderStack SDKs put them), and the few {@code properties} scalars SDKs put
 * the page, session and browser in (Segment's {@code properties.url}, PostHog's {@code
 * $current_url}, {@code $session_id}, …). Every other name is only checked as JSON and skipped: an
 * event's own properties never become strings or tokens here.
 *
 * <p>A scalar value reads as the text a Jackson tree gives for it ({@code asText()}): strings as
 * they are, numbers in Java's notation ({@code 1e2} reads {@code "100.0"}), booleans as {@code
 * true}/{@code false}; an empty string, null, an object or an array reads null. A repeated name
 * keeps its last value, as a tree does. Asking for a name outside these is a programming error.
 *
 * <p>The same pass reads the {@link EventField}s, which the enrichments read from the stored body,
 * and keeps where each value starts: {@link #writeIndex} stores those positions with the event, so
 * the body is not parsed again when it is delivered.
 *
 * <p>Immutable once read.
 */
public final class JsonFields {
  /** The top-level names read: every one that capture or key extraction asks for. */
  static final List<String> NAMES =
      Stream.of(
              List.of("event_type", "event", "type", "session_id", "sessionId", "sid"),
              List.of("url", "page_url", "page", "event_id", "messageId", "uuid", "eid"),
              List.of("utm_source", "source", "utm_medium", "medium", "utm_campaign", "campaign"),
              ClickIds.GENERIC,
              ClickIds.PLATFORMS,
              // Snowplow's fields, relayed addresses, PostHog's token and batch, the key fields.
              List.of("e", "ue_pr", "ue_px", "refr", "ip", "$ip", "ua", "token", "batch"),
              List.of("api_key", "writeKey"))
          .flatMap(List::stream)
          .toList();

  /** The scalars of the top-level {@code context} read, by their path below it. */
  static final List<String> CONTEXT =
      List.of(
          "ip",
          "userAgent",
          "sessionId",
          "page.url",
          "page.referrer",
          "campaign.source",
          "campaign.medium",
          "campaign.name");

  /** The scalars of the top-level {@code properties} read. */
  static final List<String> PROPERTIES =
      List.of(
          "url",
          "referrer",
          "$current_url",
          "$session_id",
          "$referrer",
          "$ip",
          "$raw_user_agent",
          "token");

  private static final Map<String, Integer> NAME_SLOTS = new HashMap<>();
  private static final Map<String, Integer> CONTEXT_SLOTS = new HashMap<>();
  private static final Map<String, Integer> PROPERTY_SLOTS = new HashMap<>();
  /* The slot of each EventField, by its ordinal. */
  private static final int[] EVENT_FIELD_SLOTS = new int[EventField.values().length];
  private static final JsonPaths PATHS;

  static {
    List<String> paths = new ArrayList<>();
    for (String n : NAMES) {
      NAME_SLOTS.put(n, paths.size());
      paths.add(n);
    }
    for (String c : CONTEXT) {
      CONTEXT_SLOTS.put(c, paths.size());
      paths.add("context." + c);
    }
    for (String p : PROPERTIES) {
      PROPERTY_SLOTS.put(p, paths.size());
      paths.add("properties." + p);
    }
    for (EventField f : EventField.values()) {
      int slot = paths.indexOf(f.path());
      if (slot < 0) {
        slot = paths.size();
        paths.add(f.path());
      }
      EVENT_FIELD_SLOTS[f.ordinal()] = slot;
    }
    PATHS = JsonPaths.withPositions(paths);
  }

  /* Per thread: the list id, then a slot and a start for each EventField found. */
  private static final ThreadLocal<int[]> INDEX =
      ThreadLocal.withInitial(() -> new int[1 + 2 * EventField.values().length]);

  private final JsonPaths.Values values;

  private JsonFields(JsonPaths.Values values) {
    this.values = values;
  }

  /**
   * The fields of a body that is exactly one JSON object (whitespace around it aside); null for
   * anything else. The body is valid UTF-8 (the capture step checks it first).
   */
  public static JsonFields parse(byte[] utf8) {
    try {
      return parse(utf8, JsonScanner.MAX_DEPTH);
    } catch (JsonScanner.TooDeep e) {
      return null;
    }
  }

  /**
   * The same, checking the nesting in the same pass: a body that is one well-formed object nests at
   * most {@code maxDepth} deep when this returns it.
   *
   * @throws JsonScanner.TooDeep when objects and arrays nest deeper than {@code maxDepth} before
   *     the text stops being JSON (if it does)
   */
  public static JsonFields parse(byte[] utf8, int maxDepth) throws JsonScanner.TooDeep {
    JsonPaths.Values v = PATHS.readWhole(utf8, maxDepth);
    return v == null ? null : new JsonFields(v);
  }

  /**
   * Reads the object whose <code>{</code> the scanner just read, up to and including its end.
   *
   * @throws JsonScanner.Malformed when it is not well-formed JSON
   */
  public static JsonFields read(JsonScanner s) throws JsonScanner.Malformed {
    return new JsonFields(PATHS.read(s));
  }

  /** The field's text; null when it is absent, empty, null, an object or an array. */
  public String text(String name) {
    return values.text(slot(NAME_SLOTS, name));
  }

  /**
   * A scalar of the top-level {@code context} object: one of its own ({@code ip}, {@code
   * userAgent}, {@code sessionId}) or of its {@code page} or {@code campaign} by path ({@code
   * "page.url"}, {@code "campaign.source"}); null when absent, empty or not a scalar.
   */
  public String context(String path) {
    return values.text(slot(CONTEXT_SLOTS, path));
  }

  /**
   * One of the read scalars of the top-level {@code properties} object ({@code url}, {@code
   * referrer}, {@code $current_url}, {@code $session_id}, {@code $referrer}, {@code $ip}, {@code
   * $raw_user_agent}, {@code token}); null when absent, empty or not a scalar.
   */
  public String property(String name) {
    return values.text(slot(PROPERTY_SLOTS, name));
  }

  /** True when the object has the top-level field, whatever its value. */
  public boolean has(String name) {
    return values.has(slot(NAME_SLOTS, name));
  }

  /**
   * Top-level field names that capture looks up in every event, in order of preference, with their
   * slots found once: a lookup by {@link #first} then costs no map lookup per name.
   */
  public static final class Names {
    private final List<String> list;
    private final int[] slots;

    private Names(List<String> list, int[] slots) {
      this.list = list;
      this.slots = slots;
    }

    /** The names, in order of preference. */
    public List<String> list() {
      return list;
    }

    /**
     * The value of the first of these names whose first parameter in {@code params} ({@link
     * #firstParams}) is not empty; null when none is.
     */
    public String firstParam(Params params) {
      for (int slot : slots) {
        String v = params.first[slot];
        if (v != null && !v.isEmpty()) {
          return v;
        }
      }
      return null;
    }
  }

  /**
   * A request's parameters as {@link Names#firstParam} reads them: the value of each name's first
   * parameter, for the names capture reads. A pixel's capture looks up about twenty names (the
   * event type, the session, each click id, each UTM field), and one pass over the parameters for
   * all of them costs less than one per lookup.
   */
  public static final class Params {
    private static final Params NONE = new Params(new String[NAMES.size()]);

    /* By slot; "" for a first parameter with no value, null for a name with no parameter. */
    private final String[] first;

    private Params(String[] first) {
      this.first = first;
    }
  }

  /** The first parameter of each name capture reads, among {@code params} in their order. */
  public static Params firstParams(List<Map.Entry<String, String>> params) {
    if (params.isEmpty()) {
      return Params.NONE;
    }
    String[] first = null;
    for (int i = 0; i < params.size(); i++) {
      Map.Entry<String, String> p = params.get(i);
      Integer slot = NAME_SLOTS.get(p.getKey());
      if (slot == null) {
        continue;
      }
      if (first == null) {
        first = new String[NAMES.size()];
      }
      if (first[slot] == null) {
        String v = p.getValue();
        first[slot] = v == null ? "" : v;
      }
    }
    return first == null ? Params.NONE : new Params(first);
  }

  /**
   * The names' slots, for {@link #first}.
   *
   * @throws IllegalArgumentException when one of them is not a field capture reads
   */
  public static Names names(List<String> names) {
    int[] slots = new int[names.size()];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = slot(NAME_SLOTS, names.get(i));
    }
    return new Names(List.copyOf(names), slots);
  }

  /** The text of the first of the fields that has one, as {@link #text} gives it; else null. */
  public String first(Names names) {
    for (int slot : names.slots) {
      String v = values.text(slot);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  private static int slot(Map<String, Integer> slots, String name) {
    Integer slot = slots.get(name);
    if (slot == null) {
      throw new IllegalArgumentException("not a field capture reads: " + name);
    }
    return slot;
  }

  /**
   * Adds to {@code record} where the value of each {@link EventField} found starts in the body
   * ({@link EventCodec.Field#BODY_INDEX}), when the body stored is exactly {@code utf8[offset,
   * offset + length)}, these fields were read from those bytes, and it starts with the object
   * itself (as the enrichments read a stored body); otherwise adds nothing, and the body is parsed
   * when it is delivered.
   */
  public void writeIndex(EventCodec.Writer record, byte[] utf8, int offset, int length) {
    if (values.source() != utf8 || length < 2 || utf8[offset] != '{') {
      return;
    }
    int end = offset + length;
    int[] index = INDEX.get();
    index[0] = EventField.LIST_ID;
    int n = 1;
    for (int i = 0; i < EVENT_FIELD_SLOTS.length; i++) {
      int start = values.start(EVENT_FIELD_SLOTS[i]);
      if (start < 0) {
        continue;
      }
      if (start < offset || start >= end) {
        return;
      }
      index[n++] = i;
      index[n++] = start - offset;
    }
    record.varints(EventCodec.Field.BODY_INDEX, index, n);
  }

  /** True when the first byte after JSON whitespace opens an object. */
  public static boolean startsAsObject(byte[] utf8) {
    int i = 0;
    while (i < utf8.length
        && (utf8[i] == ' ' || utf8[i] == '\t' || utf8[i] == '\n' || utf8[i] == '\r')) {
      i++;
    }
    return i < utf8.length && utf8[i] == '{';
  }

  /** Names only: values can be anything a client sent. */
  @Override
  public String toString() {
    List<String> found = new ArrayList<>();
    NAME_SLOTS.forEach(
        (name, slot) -> {
          if (values.has(slot)) {
            found.add(name);
          }
        });
    return "JsonFields" + found;
  }
}
