package io.trellis.ingress.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EventCodecTest {
  static TrafficEvent sample() {
    return new TrafficEvent(
        "acme",
        "0190a6b0-0000-7000-8000-000000000001",
        1_764_000_000_123L,
        "POST",
        "http://h/events?x=1",
        "{\"a\":\"b\"}",
        "{\"x\":\"1\"}",
        "{\"ü\":\"\\u0000 ☃\"}",
        "127.0.0.1",
        "UA",
        "https://r/",
        "signup",
        "G1",
        "S1",
        "google",
        "cpc",
        "spring");
  }

  @Test
  void roundTripKeepsEveryField() {
    TrafficEvent e = sample();
    assertThat(EventCodec.decode(EventCodec.encode(e))).isEqualTo(e);
  }

  static TrafficEvent withExactBody(TrafficEvent s) {
    return new TrafficEvent(
        s.organizationId(),
        s.eventId(),
        s.timestamp(),
        s.method(),
        s.url(),
        s.headers(),
        s.queryParams(),
        "caf\uFFFD",
        s.ip(),
        s.userAgent(),
        s.referer(),
        s.eventType(),
        s.clickId(),
        s.sessionId(),
        s.source(),
        s.medium(),
        s.campaign(),
        "Y2Fmww==");
  }

  @Test
  void eventsAreWrittenAsVersionThreeAndReadBackWithAndWithoutExactBody() {
    TrafficEvent plain = sample();
    TrafficEvent exact = withExactBody(sample());
    byte[] a = EventCodec.encode(plain);
    byte[] b = EventCodec.encode(exact);
    assertThat(a[0]).isEqualTo(EventCodec.VERSION).isEqualTo((byte) 3);
    assertThat(b[0]).isEqualTo(EventCodec.VERSION);
    assertThat(EventCodec.decode(a)).isEqualTo(plain);
    assertThat(EventCodec.decode(b)).isEqualTo(exact);
    EventCodec.check(b);
    assertThat(EventCodec.eventId(b)).isEqualTo(exact.eventId());
    assertThatThrownBy(() -> EventCodec.check(Arrays.copyOf(b, b.length - 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void recordsOfVersionsOneAndTwoWrittenByEarlierReleasesAreStillRead() {
    TrafficEvent plain = sample();
    TrafficEvent exact = withExactBody(sample());
    byte[] v1 = LegacyEventEncoding.encode(plain);
    byte[] v2 = LegacyEventEncoding.encode(exact);
    assertThat(v1[0]).isEqualTo(EventCodec.VERSION_1);
    assertThat(v2[0]).isEqualTo(EventCodec.VERSION_2);
    assertThat(EventCodec.decode(v1)).isEqualTo(plain);
    assertThat(EventCodec.decode(v2)).isEqualTo(exact);
    EventCodec.check(v1);
    EventCodec.check(v2);
    assertThat(EventCodec.eventId(v1)).isEqualTo(plain.eventId());
    assertThat(EventCodec.eventId(v2)).isEqualTo(exact.eventId());
    assertThat(EventCodec.timestamp(v2)).isEqualTo(exact.timestamp());
    assertThat(EventCodec.organizationId(v1)).isEqualTo(plain.organizationId());
    assertThat(EventCodec.organizationId(v2)).isEqualTo(exact.organizationId());
  }

  @Test
  void fieldsANewerReleaseAddsAreSkippedAndAbsentFieldsReadAsEmpty() {
    TrafficEvent e = sample();
    byte[] known = EventCodec.encode(e);
    // A newer release's record: the same fields plus tag 40 (unknown here) in the middle.
    byte[] unknownField = {40, 3, 'x', 'y', 'z'};
    byte[] newer = new byte[known.length + unknownField.length];
    System.arraycopy(known, 0, newer, 0, 9);
    System.arraycopy(unknownField, 0, newer, 9, unknownField.length);
    System.arraycopy(known, 9, newer, 9 + unknownField.length, known.length - 9);
    EventCodec.check(newer);
    assertThat(EventCodec.decode(newer)).isEqualTo(e);
    assertThat(EventCodec.eventId(newer)).isEqualTo(e.eventId());

    // Only the organization: every other string is empty (headers and query read as "{}").
    byte[] sparse = EventCodec.Writer.forThread(5).field(1, "acme").toByteArray();
    TrafficEvent read = EventCodec.decode(sparse);
    assertThat(read.organizationId()).isEqualTo("acme");
    assertThat(read.eventId()).isEmpty();
    assertThat(read.body()).isEmpty();
    assertThat(read.headers()).isEqualTo("{}");
    assertThat(read.timestamp()).isEqualTo(5);
  }

  @Test
  void stringsAreWrittenAsJavaWritesUtf8() {
    SplittableRandom random = new SplittableRandom(11);
    char[] alphabet = {
      'a', '"', '\\', 0, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x2603, 0xffff, 0xd83d, 0xde00, 0xdbff,
      0xdc00
    };
    for (int i = 0; i < 5_000; i++) {
      // Short, around the 127 chars copied in place as ASCII, and long; mostly ASCII in half of
      // them, so that a char beyond ASCII turns up anywhere, after part of a string is copied.
      int[] lengths = {random.nextInt(12), 120 + random.nextInt(16), random.nextInt(300)};
      char[] cs = new char[lengths[random.nextInt(lengths.length)]];
      boolean mostlyAscii = random.nextBoolean();
      for (int j = 0; j < cs.length; j++) {
        cs[j] =
            mostlyAscii && random.nextInt(100) > 0
                ? (char) random.nextInt(0x80)
                : alphabet[random.nextInt(alphabet.length)];
      }
      String s = new String(cs);
      byte[] record = EventCodec.Writer.forThread(0).field(7, s).toByteArray();
      byte[] expected = s.getBytes(StandardCharsets.UTF_8);
      byte[] body = Arrays.copyOfRange(record, record.length - expected.length, record.length);
      assertThat(body).as("%s", Arrays.toString(cs)).isEqualTo(expected);
      assertThat(EventCodec.decode(record).body())
          .isEqualTo(new String(expected, StandardCharsets.UTF_8));
    }
  }

  @Test
  void bytesThatAreUtf8AlreadyAreCopiedAsTheyAre() {
    byte[] body = "{\"ü\":\"☃\"}".getBytes(StandardCharsets.UTF_8);
    byte[] padded = new byte[body.length + 4];
    System.arraycopy(body, 0, padded, 2, body.length);
    byte[] record =
        EventCodec.Writer.forThread(1)
            .field(EventCodec.Field.ORGANIZATION_ID, "o")
            .field(EventCodec.Field.EVENT_ID, "id")
            .field(EventCodec.Field.BODY, padded, 2, body.length)
            .toByteArray();
    assertThat(EventCodec.decode(record).body()).isEqualTo("{\"ü\":\"☃\"}");
  }

  @Test
  void truncatedOrUnknownInputIsRejectedNotMisread() {
    byte[] bytes = EventCodec.encode(sample());
    assertThatThrownBy(() -> EventCodec.decode(Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EventCodec.check(Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(IllegalArgumentException.class);
    bytes[0] = 99;
    assertThatThrownBy(() -> EventCodec.decode(bytes))
        .hasMessageContaining("unknown event encoding version");
    assertThatThrownBy(() -> EventCodec.check(bytes))
        .hasMessageContaining("unknown event encoding version");
  }

  @Test
  void checkRejectsExactlyWhatDecodeRejects() {
    checkAgreesWithDecode(EventCodec.encode(sample()), false);
    checkAgreesWithDecode(EventCodec.encode(withExactBody(sample())), false);
    checkAgreesWithDecode(LegacyEventEncoding.encode(sample()), true);
    checkAgreesWithDecode(LegacyEventEncoding.encode(withExactBody(sample())), true);
  }

  private static void checkAgreesWithDecode(byte[] good, boolean positional) {
    EventCodec.check(good);
    for (int len = 0; len < good.length; len++) {
      byte[] cut = Arrays.copyOf(good, len);
      boolean refused = rejects(() -> EventCodec.check(cut));
      assertThat(refused)
          .as("prefix of %d bytes", len)
          .isEqualTo(rejects(() -> EventCodec.decode(cut)));
      if (positional || len < 9) {
        // A version 3 record cut between two fields is still well formed (fewer fields).
        assertThat(refused).as("prefix of %d bytes", len).isTrue();
      }
    }
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      byte[] bad = good.clone();
      // Damage a length or tag field (or the version) most of the time; anywhere otherwise.
      int at =
          random.nextInt(4) > 0
              ? structureByte(good, random, positional)
              : random.nextInt(bad.length);
      bad[at] = (byte) random.nextInt(256);
      assertThat(rejects(() -> EventCodec.check(bad)))
          .as("byte %d set to %d", at, bad[at])
          .isEqualTo(rejects(() -> EventCodec.decode(bad)));
      if (!rejects(() -> EventCodec.check(bad))) {
        // What decode reads, even where damage repeated a tag: the fields read alone agree.
        TrafficEvent read = EventCodec.decode(bad);
        assertThat(EventCodec.eventId(bad)).as("byte %d", at).isEqualTo(read.eventId());
        assertThat(EventCodec.organizationId(bad))
            .as("byte %d", at)
            .isEqualTo(read.organizationId());
        assertThat(SpooledEvent.encoded(0, bad).organizationId())
            .as("byte %d", at)
            .isEqualTo(read.organizationId());
        assertThat(EventCodec.timestamp(bad)).as("byte %d", at).isEqualTo(read.timestamp());
        readsAsDecoded(bad, read, "byte " + at);
      }
    }
  }

  private static final EventLines LINES = new EventLines(64 * 1024);
  private static final RecordArena ARENA = new RecordArena();
  private static final EventCodec.Previous PREVIOUS = new EventCodec.Previous();

  /*
   * What delivery reads of a record that checks well, without decoding it again: the id and
   * organization from the places the check noted, on the heap and in an arena; the places decode
   * notes; and the line written from the record's bytes at those places, which must be the line of
   * the decoded strings.
   */
  private static TrafficEvent decode(byte[] record, long[] at, EventCodec.Previous previous) {
    return EventCodec.decode(record, record.length, at, previous);
  }

  private static void readsAsDecoded(byte[] record, TrafficEvent read, String what) {
    SpooledEvent heap = SpooledEvent.encoded(0, record);
    ARENA.clear();
    SpooledEvent held = ARENA.hold(SpooledEvent.encoded(0, record));
    for (SpooledEvent e : List.of(heap, held)) {
      assertThat(e.eventId()).as(what).isEqualTo(read.eventId());
      assertThat(e.organizationId()).as(what).isEqualTo(read.organizationId());
    }
    long[] checked = new long[EventCodec.Field.KNOWN + 1];
    EventCodec.checkNoting(record, record.length, checked);
    long[] decoded = new long[EventCodec.Field.KNOWN + 1];
    assertThat(EventCodec.decode(record, record.length, decoded, null)).as(what).isEqualTo(read);
    // After the record checked before this one, most of whose fields have the same bytes, and
    // from the start of a longer array (a delivery thread's buffer) whose bytes after it are junk.
    byte[] longer = Arrays.copyOf(record, record.length + 40);
    Arrays.fill(longer, record.length, longer.length, (byte) 0x01);
    assertThat(EventCodec.decode(longer, record.length, new long[decoded.length], PREVIOUS))
        .as(what)
        .isEqualTo(read);
    boolean tagged = record[0] == EventCodec.VERSION;
    assertThat(decoded[0]).as(what).isEqualTo(tagged ? 1 : 0);
    if (tagged) {
      assertThat(Arrays.copyOfRange(decoded, 1, decoded.length))
          .as(what)
          .containsExactly(Arrays.copyOfRange(checked, 1, checked.length));
    }

    ByteArrayOutputStream fromStrings = new ByteArrayOutputStream();
    ByteArrayOutputStream fromRecord = new ByteArrayOutputStream();
    try {
      LINES.writeAll(fromStrings, List.of(read), 5);
      // Decoded from the arena into an array the thread reuses, after the record before.
      TrafficEvent stored = held.event();
      assertThat(stored).as(what).isEqualTo(read);
      assertThat(Enrichments.fieldsOf(stored)).as(what).isEqualTo(tagged ? decoded : null);
      LINES.writeAll(fromRecord, List.of(stored), 5);
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    assertThat(fromRecord.toString(StandardCharsets.UTF_8))
        .as(what)
        .isEqualTo(fromStrings.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aFieldWithThePreviousRecordsBytesIsThePreviousRecordsString() {
    TrafficEvent first = sample();
    TrafficEvent second =
        new TrafficEvent(
            first.organizationId(),
            "0190a6b0-0000-7000-8000-000000000002",
            first.timestamp() + 1,
            first.method(),
            first.url(),
            first.headers(),
            first.queryParams(),
            "{\"other\":1}",
            first.ip(),
            first.userAgent(),
            first.referer(),
            first.eventType(),
            "",
            first.sessionId(),
            first.source(),
            first.medium(),
            first.campaign());
    EventCodec.Previous previous = new EventCodec.Previous();
    long[] at = new long[EventCodec.Field.KNOWN + 1];
    TrafficEvent a = decode(EventCodec.encode(first), at, previous);
    TrafficEvent b = decode(EventCodec.encode(second), at, previous);

    assertThat(a).isEqualTo(first);
    assertThat(b).isEqualTo(second);
    assertThat(b.url()).isSameAs(a.url());
    assertThat(b.headers()).isSameAs(a.headers());
    assertThat(b.userAgent()).isSameAs(a.userAgent());
    assertThat(b.body()).isNotSameAs(a.body());
    // A record of version 1 in between: the next one has no previous strings to take.
    decode(LegacyEventEncoding.encode(first), at, previous);
    assertThat(at[0]).isZero();
    TrafficEvent c = decode(EventCodec.encode(second), at, previous);
    assertThat(c).isEqualTo(second);
    assertThat(c.url()).isNotSameAs(b.url());
  }

  @Test
  void theIdAndTimeAreReadWithoutDecodingTheRest() {
    TrafficEvent e = sample();
    byte[] bytes = EventCodec.encode(e);
    assertThat(EventCodec.eventId(bytes)).isEqualTo(e.eventId());
    assertThat(EventCodec.timestamp(bytes)).isEqualTo(e.timestamp());
    assertThat(EventCodec.organizationId(bytes)).isEqualTo(e.organizationId());
  }

  private static boolean rejects(Runnable r) {
    try {
      r.run();
      return false;
    } catch (IllegalArgumentException e) {
      return true;
    }
  }

  /** A byte of the version, or of a tag or length field. */
  private static int structureByte(byte[] encoded, SplittableRandom random, boolean positional) {
    List<Integer> at = new ArrayList<>();
    at.add(0);
    int pos = 1 + 8;
    while (pos < encoded.length) {
      if (positional) {
        for (int k = 0; k < 4; k++) {
          at.add(pos + k);
        }
        int len =
            ((encoded[pos] & 0xff) << 24)
                | ((encoded[pos + 1] & 0xff) << 16)
                | ((encoded[pos + 2] & 0xff) << 8)
                | (encoded[pos + 3] & 0xff);
        pos += 4 + len;
      } else {
        at.add(pos++); // tag, one byte for the known tags
        int len = 0;
        int shift = 0;
        byte b;
        do {
          at.add(pos);
          b = encoded[pos++];
          len |= (b & 0x7f) << shift;
          shift += 7;
        } while (b < 0);
        pos += len;
      }
    }
    return at.get(random.nextInt(at.size()));
  }

  private static byte[] indexed(byte[] body, int... index) {
    return EventCodec.Writer.forThread(0)
        .field(EventCodec.Field.EVENT_ID, "e1")
        .field(EventCodec.Field.BODY, body, 0, body.length)
        .varints(EventCodec.Field.BODY_INDEX, index, index.length)
        .toByteArray();
  }

  /*
   * A body index is read only when it was made for this release's list of fields and fits the body;
   * otherwise the body is parsed, never misread. The record decodes the same with or without it.
   */
  @Test
  void aBodyIndexIsReadOnlyWhenItIsForTheseFieldsAndFitsTheBody() {
    byte[] body = "{\"userId\":\"u\"}".getBytes(StandardCharsets.UTF_8);
    int slot = EventField.USER_ID_CAMEL.ordinal();
    int list = EventField.LIST_ID;

    assertThat(EventCodec.indexedBody(indexed(body, list, slot, 10)).text(slot)).isEqualTo("u");
    assertThat(EventCodec.indexedBody(indexed(body, list)).text(slot)).isNull();
    assertThat(EventCodec.decode(indexed(body, list, slot, 10)))
        .isEqualTo(EventCodec.decode(indexed(body, list)));
    EventCodec.check(indexed(body, list, slot, 10));

    assertThat(EventCodec.indexedBody(indexed(body, list ^ 1, slot, 10))).isNull();
    assertThat(EventCodec.indexedBody(indexed(body, list, slot, 11))).isNull();
    assertThat(EventCodec.indexedBody(indexed(body, list, slot, 99))).isNull();
    assertThat(EventCodec.indexedBody(indexed(body, list, 999, 10))).isNull();
    assertThat(EventCodec.indexedBody(indexed(body, list, slot))).isNull();
    assertThat(EventCodec.indexedBody(indexed(body))).isNull();
    byte[] none =
        EventCodec.Writer.forThread(0)
            .field(EventCodec.Field.BODY, body, 0, body.length)
            .toByteArray();
    assertThat(EventCodec.indexedBody(none)).isNull();

    // A damaged record that still reads is never misread into an exception: each byte, each value.
    byte[] good = indexed(body, list, slot, 10);
    for (int at = 0; at < good.length; at++) {
      for (int v = 0; v < 256; v++) {
        byte[] bad = good.clone();
        bad[at] = (byte) v;
        if (!rejects(() -> EventCodec.check(bad))) {
          EventCodec.indexedBody(bad);
        }
      }
    }
  }
}
