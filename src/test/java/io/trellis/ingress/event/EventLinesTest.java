package io.trellis.ingress.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.bench.BenchEvents;
import io.trellis.ingress.testing.TrafficEvents;
import java.io.ByteArrayOutputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * The hand-written NDJSON writer against the reference it replaced: Jackson's default UTF-8
 * generator writing the same fields. Equal bytes are the contract, whatever the strings hold.
 */
class EventLinesTest {
  private static final long T = 1_764_201_599_123L; // 2025-11-26T23:59:59.123Z

  /** Years 0000 to 9999, the range the four-digit pattern covers without a sign. */
  private static final long MIN_TIME = -62_167_219_200_000L;

  private static final long MAX_TIME = 253_402_300_799_999L;

  /**
   * One mapper for every generated JSON text: a new mapper finds its serializers again on each
   * call, which cost more than the property itself.
   */
  private static final ObjectMapper JSON = new ObjectMapper();

  @Example
  void benchEventsAreWrittenExactlyAsJacksonWroteThem() throws IOException {
    List<TrafficEvent> events = new ArrayList<>();
    for (TrafficEvent e : BenchEvents.captured(50)) {
      events.add(TrafficEvents.withTimestamp(e, e.timestamp() + 997L * events.size()));
    }
    long ingestedAt = T + 5_000;

    byte[] actual = writeAll(new EventLines(), events, ingestedAt);

    assertThat(new String(actual, StandardCharsets.UTF_8))
        .isEqualTo(new String(reference(events, ingestedAt), StandardCharsets.UTF_8));
    assertThat(actual).isEqualTo(reference(events, ingestedAt));
    assertThat(new String(actual, StandardCharsets.UTF_8).split("\n", -1)).hasSize(51);
  }

  @Example
  void awkwardStringsAreEscapedAsJacksonEscapesThem() throws IOException {
    List<String> awkward =
        List.of(
            "quote \" and backslash \\ and slash /",
            "controls \u0000\u0001\b\t\n\u000b\f\r\u001f and DEL \u007f",
            "latin é ß, CJK 漢字, line separators \u2028\u2029, BOM \ufeff, \uffff",
            "emoji \ud83d\ude00 and flag \ud83c\uddeb\ud83c\uddf7",
            "lone high \ud83d, lone low \ude00, reversed \ude00\ud83d, trailing \ud83d",
            "html <script>alert('x')</script> & friends",
            "");
    List<TrafficEvent> events = new ArrayList<>();
    for (String s : awkward) {
      events.add(event(s, "{\"emoji\":\"\ud83d\ude00\",\"é\":\"\u2028\"}", T));
    }

    assertThat(writeAll(new EventLines(), events, T)).isEqualTo(reference(events, T));
  }

  @Example
  void stringsLongerThanTheBufferAreWrittenWhole() throws IOException {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < 40_000; i++) {
      body.append(i % 7 == 0 ? "\ud83d\ude00" : i % 5 == 0 ? "\"\u0001" : "aé漢");
    }
    StringBuilder headers = new StringBuilder("{\"x\":\"");
    for (int i = 0; i < 30_000; i++) {
      headers.append("a\ud83d\ude00漢é");
    }
    headers.append("\"}");
    List<TrafficEvent> events =
        List.of(event(body.toString(), headers.toString(), T), event("short", "{}", T + 1));

    assertThat(writeAll(new EventLines(), events, T)).isEqualTo(reference(events, T));
    assertThat(writeAll(new EventLines(384), events, T)).isEqualTo(reference(events, T));
  }

  @Example
  void timesCrossingSecondsDaysAndGoingBackAreFormattedEachTime() throws IOException {
    long midnight = 1_764_201_600_000L; // 2025-11-27T00:00:00Z
    List<TrafficEvent> events = new ArrayList<>();
    for (long t :
        new long[] {
          midnight - 1,
          midnight,
          midnight + 999,
          midnight + 1000,
          midnight - 1,
          -1,
          0,
          1,
          MIN_TIME,
          MAX_TIME,
          951_782_400_000L /* 2000-02-29 */
        }) {
      events.add(TrafficEvents.withTimestamp(event("b", "{}", 0), t));
    }
    byte[] actual = writeAll(new EventLines(), events, midnight + 1000);

    assertThat(actual).isEqualTo(reference(events, midnight + 1000));
    assertThat(new String(actual, StandardCharsets.UTF_8))
        .contains("\"timestamp\":\"2025-11-26T23:59:59.999Z\"")
        .contains("\"timestamp\":\"1969-12-31T23:59:59.999Z\"")
        .contains("\"ingested_at\":\"2025-11-27T00:00:01.000Z\"");
  }

  @Example
  void aMalformedSurrogateInARawValueIsAnErrorAsItWasWithJackson() {
    for (String lone : List.of("\ud83d", "\ud83dx", "\ude00x", "\ude00\ud83d\ude00")) {
      TrafficEvent bad = event("b", "{\"x\":\"" + lone + "\"}", T);

      assertThatThrownBy(() -> reference(List.of(bad), T)).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> writeAll(new EventLines(), List.of(bad), T))
          .isInstanceOf(CharConversionException.class)
          .hasMessageContaining("char 6");
      assertThatThrownBy(() -> EventLines.write(new ByteArrayOutputStream(), bad, T))
          .isInstanceOf(UncheckedIOException.class);
    }
  }

  @Example
  void twoLowSurrogatesInARawValueAreRefusedWhereJacksonWroteBytesThatAreNotUtf8()
      throws IOException {
    TrafficEvent bad = event("b", "{\"x\":\"\ude00\ude00\"}", T);

    assertThat(new String(reference(List.of(bad), T), StandardCharsets.ISO_8859_1))
        .contains("\"x\":\"\u00f6\u0090\u0088\u0080\"");
    assertThatThrownBy(() -> writeAll(new EventLines(), List.of(bad), T))
        .isInstanceOf(CharConversionException.class);
  }

  @Example
  void asciiStringsAreEscapedAtEveryPlaceInARunOfEight() throws IOException {
    // A string that is ASCII but for lone surrogates has one UTF-8 byte per char, each surrogate
    // a '?': those and the real '?', quotes and control chars at every offset of the runs read
    // eight bytes at a time.
    List<TrafficEvent> events = new ArrayList<>();
    for (String special : List.of("?", "\ud800", "\udfff", "\"", "\\", "\u0000", "\u001f", "\n")) {
      for (int at = 0; at < 17; at++) {
        String s = "abcdefgh".repeat(3);
        s = s.substring(0, at) + special + s.substring(at) + "?\ud83d";
        events.add(event(s, "{}", T));
      }
    }
    byte[] actual = writeAll(new EventLines(), events, T);

    assertThat(actual).isEqualTo(reference(events, T));
    assertThat(writeAll(new EventLines(384), events, T)).isEqualTo(actual);
    assertThat(new String(actual, StandardCharsets.UTF_8))
        .contains("\"body\":\"abc\\uD800defgh")
        .contains("\"body\":\"abc?defgh");
  }

  @Example
  void wordsOfQuotesAndBackslashesAreEscapedAtEveryPlace() throws IOException {
    // JSON text has a quote every few bytes, so most runs of eight hold one or more. Every mix of
    // quotes, backslashes and '?', at every offset, from strings (where '?' is looked at too) and
    // from records, and runs of nothing but escapes through the smallest buffer.
    List<TrafficEvent> events = new ArrayList<>();
    String[] parts = {"\"", "\\", "a", "?", "{\"k\":\"v\"}", "\\\"", "~", " "};
    for (int at = 0; at < 9; at++) {
      for (int mix = 0; mix < 64; mix++) {
        StringBuilder b = new StringBuilder("x".repeat(at));
        for (int k = 0; k < 12; k++) {
          b.append(parts[(mix + k * (mix % 7 + 1)) % parts.length]);
        }
        events.add(event(b.toString(), "{}", T));
      }
    }
    events.add(event("\"\\".repeat(5_000), "{}", T));
    byte[] expected = reference(events, T);

    assertThat(writeAll(new EventLines(), events, T)).isEqualTo(expected);
    assertThat(writeAll(new EventLines(384), events, T)).isEqualTo(expected);
    // A lone surrogate is a '?' of getBytes: the words around it are looked at byte by byte.
    List<TrafficEvent> surrogate = List.of(event("?\"".repeat(3_000) + "\ud800\"", "{}", T));
    assertThat(writeAll(new EventLines(384), surrogate, T)).isEqualTo(reference(surrogate, T));
    List<byte[]> records = events.stream().map(EventCodec::encode).toList();
    assertThat(writeAll(new EventLines(), fromRecords(records), T)).isEqualTo(expected);
    assertThat(writeAll(new EventLines(384), fromRecords(records), T)).isEqualTo(expected);
    assertThat(new String(expected, StandardCharsets.UTF_8))
        .contains("\"body\":\"\\\"\\\\\\\"\\\\");
  }

  @Example
  void oneLineAtATimeIsTheSameLine() throws IOException {
    TrafficEvent e = event("{\"a\":1}", "{}", T);
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    EventLines.write(out, e, T);

    assertThat(out.toByteArray()).isEqualTo(reference(List.of(e), T));
    assertThat(new ObjectMapper().readTree(out.toByteArray()).path("body").asText())
        .isEqualTo("{\"a\":1}");
  }

  @Property(tries = 600)
  void anyEventsAreWrittenExactlyAsJacksonWritesThem(
      @ForAll("events") List<TrafficEvent> events, @ForAll("times") long ingestedAt)
      throws IOException {
    byte[] expected;
    try {
      expected = reference(events, ingestedAt);
      // Jackson's raw writer takes two low surrogates for a pair and writes bytes that are not
      // UTF-8; that is refused here, as Jackson refuses every other malformed pair.
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(expected));
    } catch (IOException jacksonRefusedOrWroteNonUtf8) {
      assertThatThrownBy(() -> writeAll(new EventLines(), events, ingestedAt))
          .isInstanceOf(CharConversionException.class);
      assertThatThrownBy(() -> writeAll(new EventLines(384), events, ingestedAt))
          .isInstanceOf(CharConversionException.class);
      Statistics.collect("refused");
      return;
    }
    Statistics.collect("written");
    assertThat(writeAll(new EventLines(), events, ingestedAt)).isEqualTo(expected);
    // A buffer of 384 bytes splits most strings into chunks and lines across flushes.
    assertThat(writeAll(new EventLines(384), events, ingestedAt)).isEqualTo(expected);
  }

  /**
   * Lines of events decoded from spool records, as a sink's delivery writes them: the values that
   * are record fields come from the record's bytes. They must be the lines of the decoded events
   * written from their strings (what the property above ties to Jackson), also when a field's bytes
   * are not UTF-8 (decoded with replacements, written from the string).
   */
  @Property(tries = 600)
  void eventsReadFromRecordsAreWrittenAsTheirDecodedEvents(
      @ForAll("records") List<byte[]> records, @ForAll("times") long ingestedAt)
      throws IOException {
    // Decoded apart from any SpooledEvent: these lines are written from the strings alone.
    List<TrafficEvent> decoded = records.stream().map(EventCodec::decode).toList();
    byte[] expected = writeAll(new EventLines(), decoded, ingestedAt);
    Statistics.collect(
        records.stream().allMatch(io.trellis.ingress.base.Utf8::isValid) ? "utf-8" : "not utf-8");

    assertThat(writeAll(new EventLines(), fromRecords(records), ingestedAt)).isEqualTo(expected);
    assertThat(writeAll(new EventLines(384), fromRecords(records), ingestedAt)).isEqualTo(expected);
  }

  @Example
  void aValueOfManyEscapesAndFourByteCharsIsWrittenWholeFromItsRecord() throws IOException {
    // Six bytes out for each byte in, across many flushes of the smallest buffer.
    String body = "\u0001\"\\\ud83d\ude00é漢".repeat(2_000);
    byte[] record =
        EventCodec.encode(event(body, "{\"k\":\"" + body.replace("\u0001", "") + "\"}", T));

    byte[] expected = reference(List.of(EventCodec.decode(record)), T);
    assertThat(writeAll(new EventLines(), List.of(EventCodec.decode(record)), T))
        .isEqualTo(expected);

    assertThat(writeAll(new EventLines(384), fromRecords(List.of(record)), T)).isEqualTo(expected);
    assertThat(writeAll(new EventLines(), fromRecords(List.of(record)), T)).isEqualTo(expected);
  }

  @Example
  void quotesAndBackslashesAreEscapedAtEveryPlaceInAWord() throws IOException {
    // Each at every place of two words, followed by what a subtraction's borrow marks ('#' after
    // a quote, ']' after a backslash), by another escape, and by what the char path takes.
    List<TrafficEvent> events = new ArrayList<>();
    for (String escaped : List.of("\"", "\\")) {
      for (String next :
          List.of("#", "]", "\"", "\\", "\u0001", "\u001f", "é", "?", "\ud83d\ude00", "a")) {
        for (int at = 0; at < 2 * Long.BYTES; at++) {
          String text = "0123456789abcdef".substring(0, at) + escaped + next + "ABCDEFGHIJKLMNOP";
          events.add(event(text, jsonObject(text), T));
        }
      }
    }
    byte[] expected = reference(events, T);
    List<byte[]> records = events.stream().map(EventCodec::encode).toList();

    assertThat(writeAll(new EventLines(), events, T)).isEqualTo(expected);
    assertThat(writeAll(new EventLines(384), events, T)).isEqualTo(expected);
    assertThat(writeAll(new EventLines(), fromRecords(records), T)).isEqualTo(expected);
    assertThat(writeAll(new EventLines(384), fromRecords(records), T)).isEqualTo(expected);
  }

  @Example
  void anEmptyObjectFieldOfARecordIsWrittenAsItsDecodedEmptyObject() throws IOException {
    // Capture leaves an empty field out; a record from elsewhere may hold one, which decodes as {}.
    byte[] record =
        EventCodec.Writer.forThread(T)
            .field(EventCodec.Field.ORGANIZATION_ID, "acme")
            .fields(new byte[] {EventCodec.Field.HEADERS, 0, EventCodec.Field.QUERY_PARAMS, 0})
            .toByteArray();

    byte[] expected = writeAll(new EventLines(), List.of(EventCodec.decode(record)), T);
    assertThat(new String(expected, StandardCharsets.UTF_8))
        .contains("\"headers\":{},\"query_params\":{}");
    assertThat(writeAll(new EventLines(), fromRecords(List.of(record)), T)).isEqualTo(expected);
  }

  /** The records' events as a sink batch hands them out: each decoded when it is read. */
  private static List<TrafficEvent> fromRecords(List<byte[]> records) {
    return new java.util.AbstractList<>() {
      @Override
      public TrafficEvent get(int i) {
        return SpooledEvent.encoded(i, records.get(i)).event();
      }

      @Override
      public int size() {
        return records.size();
      }
    };
  }

  /**
   * Version 3 records of generated events; in some, fields replaced by arbitrary bytes (mostly
   * valid UTF-8 with one bad byte somewhere).
   */
  @Provide
  Arbitrary<List<byte[]>> records() {
    Arbitrary<byte[]> bytes =
        Arbitraries.oneOf(
            awkwardStrings(false)
                .map(t -> t.getBytes(StandardCharsets.UTF_8))
                .flatMap(
                    b ->
                        Arbitraries.integers()
                            .between(0, b.length)
                            .flatMap(
                                at ->
                                    Arbitraries.integers()
                                        .between(0x80, 0xff)
                                        .map(bad -> withByteAt(b, at, (byte) (int) bad)))),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(40));
    Arbitrary<List<Tuple.Tuple2<Integer, byte[]>>> replaced =
        Combinators.combine(Arbitraries.integers().between(1, EventCodec.Field.LAST), bytes)
            .as(Tuple::of)
            .list()
            .ofMaxSize(3);
    Arbitrary<byte[]> record =
        Combinators.combine(events().map(l -> l.get(0)), replaced, Arbitraries.of(true, false))
            .as(
                (e, fields, mangle) -> {
                  if (!mangle) {
                    return EventCodec.encode(e);
                  }
                  EventCodec.Writer w = EventCodec.Writer.forThread(e.timestamp());
                  for (int tag = 1; tag <= EventCodec.Field.LAST; tag++) {
                    byte[] value = EventCodec.text(e, tag).getBytes(StandardCharsets.UTF_8);
                    for (Tuple.Tuple2<Integer, byte[]> f : fields) {
                      if (f.get1() == tag) {
                        value = f.get2();
                      }
                    }
                    w.field(tag, value, 0, value.length);
                  }
                  return w.toByteArray();
                });
    return record.list().ofMinSize(1).ofMaxSize(4);
  }

  private static byte[] withByteAt(byte[] b, int at, byte x) {
    byte[] out = new byte[b.length + 1];
    System.arraycopy(b, 0, out, 0, at);
    out[at] = x;
    System.arraycopy(b, at, out, at + 1, b.length - at);
    return out;
  }

  @Provide
  Arbitrary<List<TrafficEvent>> events() {
    Arbitrary<String> s = awkwardStrings(true);
    // Mostly well-formed JSON text, as capture writes it; sometimes anything.
    Arbitrary<String> raw =
        Arbitraries.frequencyOf(
            Tuple.of(8, awkwardStrings(false).map(EventLinesTest::jsonObject)),
            Tuple.of(1, s.map(EventLinesTest::jsonObject)),
            Tuple.of(1, s));
    Arbitrary<TrafficEvent> event =
        Combinators.combine(s.list().ofSize(14), raw, raw, times())
            .as(
                (t, headers, query, ts) ->
                    new TrafficEvent(
                        t.get(0), t.get(1), ts, t.get(2), t.get(3), headers, query, t.get(4),
                        t.get(5), t.get(6), t.get(7), t.get(8), t.get(9), t.get(10), t.get(11),
                        t.get(12), t.get(13)));
    return event.list().ofMinSize(1).ofMaxSize(4);
  }

  @Provide
  Arbitrary<Long> times() {
    return Arbitraries.oneOf(
        Arbitraries.longs().between(MIN_TIME, MAX_TIME),
        Arbitraries.longs().between(T - 3_000, T + 3_000),
        Arbitraries.of(MIN_TIME, MAX_TIME, -1L, 0L));
  }

  /**
   * Strings built from ASCII runs and the characters escaping and UTF-8 treat specially; with or
   * without lone surrogates.
   */
  private static Arbitrary<String> awkwardStrings(boolean loneSurrogates) {
    List<Arbitrary<String>> pieces =
        new ArrayList<>(
            List.of(
                Arbitraries.strings().ascii().ofMaxLength(30),
                Arbitraries.chars().range('\u0000', '\u001f').map(String::valueOf),
                Arbitraries.chars().range('\u0080', '\ud7ff').map(String::valueOf),
                Arbitraries.chars().range('\ue000', '\uffff').map(String::valueOf),
                Arbitraries.integers()
                    .between(0x10000, Character.MAX_CODE_POINT)
                    .map(Character::toString),
                Arbitraries.of(
                    "\"",
                    "\\",
                    "/",
                    "?",
                    "\u007f",
                    "\u0080",
                    "\u07ff",
                    "\u0800",
                    "\u2028",
                    "\ufffd",
                    "\uffff",
                    "\ud83d\ude00",
                    "é",
                    "漢")));
    if (loneSurrogates) {
      pieces.add(Arbitraries.chars().range('\ud800', '\udfff').map(String::valueOf));
    }
    return Arbitraries.oneOf(pieces).list().ofMaxSize(12).map(parts -> String.join("", parts));
  }

  private static String jsonObject(String value) {
    try {
      return JSON.writeValueAsString(java.util.Map.of("k", value));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static TrafficEvent event(String text, String raw, long ts) {
    return new TrafficEvent(
        "org-" + text,
        "id",
        ts,
        "POST",
        "https://h/p?q=" + text,
        raw,
        raw,
        text,
        "127.0.0.1",
        text,
        text,
        "event",
        text,
        text,
        text,
        text,
        text);
  }

  @Example
  void eachEventsDerivedColumnsAreItsOwnEnrichmentsValues() throws IOException {
    // Each event's enrichment differs, so a value taken from another event's shows.
    Enrichments.install(
        e ->
            new Enrichment(
                e.timestamp() - 2_000,
                e.timestamp() - 1_000,
                e.timestamp() - 500,
                "skew_corrected",
                "user-" + e.eventId(),
                "",
                "term-" + e.eventId(),
                "",
                "paid",
                "Chrome",
                "124",
                "Windows",
                "desktop",
                false,
                "",
                "",
                "",
                "",
                ""));
    try {
      List<TrafficEvent> events = new ArrayList<>();
      for (TrafficEvent e : BenchEvents.captured(20)) {
        events.add(TrafficEvents.withTimestamp(e, T + 1_000L * events.size()));
      }
      String[] lines =
          new String(writeAll(new EventLines(), events, T), StandardCharsets.UTF_8).split("\n");
      assertThat(lines).hasSize(events.size());
      for (int i = 0; i < lines.length; i++) {
        TrafficEvent e = events.get(i);
        var line = JSON.readTree(lines[i]);
        assertThat(line.path("user_id").asText()).isEqualTo("user-" + e.eventId());
        assertThat(line.path("term").asText()).isEqualTo("term-" + e.eventId());
        assertThat(line.path("client_timestamp").asText())
            .isEqualTo(java.time.Instant.ofEpochMilli(e.timestamp() - 2_000).toString());
        assertThat(line.path("event_time").asText())
            .isEqualTo(java.time.Instant.ofEpochMilli(e.timestamp() - 500).toString());
        assertThat(line.has("anonymous_id")).isTrue();
        assertThat(line.path("anonymous_id").asText()).isEmpty();
      }
      assertThat(writeAll(new EventLines(), events, T)).isEqualTo(reference(events, T));
    } finally {
      Enrichments.install(Enrichment::none);
    }
  }

  private static byte[] writeAll(EventLines lines, List<TrafficEvent> events, long ingestedAt)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    lines.writeAll(out, events, ingestedAt);
    return out.toByteArray();
  }

  private static byte[] reference(List<TrafficEvent> events, long ingestedAt) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (TrafficEvent e : events) {
      JacksonLines.write(out, e, ingestedAt);
    }
    return out.toByteArray();
  }
}
