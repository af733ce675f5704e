package io.trellis.ingress.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordArenaTest {
  /** An event whose body makes its record about {@code bodyBytes} long, numbered {@code n}. */
  private static TrafficEvent event(int n, int bodyBytes) {
    return event("org-" + (n % 7), n, bodyBytes);
  }

  private static TrafficEvent event(String organization, int n, int bodyBytes) {
    TrafficEvent s = EventCodecTest.sample();
    return new TrafficEvent(
        organization,
        String.format("0190a6b0-0000-7000-8000-%012d", n),
        s.timestamp() + n,
        s.method(),
        s.url(),
        s.headers(),
        s.queryParams(),
        "{\"n\":" + n + ",\"pad\":\"" + "x".repeat(bodyBytes) + "\"}",
        s.ip(),
        s.userAgent(),
        s.referer(),
        s.eventType(),
        s.clickId(),
        s.sessionId(),
        s.source(),
        s.medium(),
        s.campaign());
  }

  private static SpooledEvent spooled(long offset, TrafficEvent e) {
    return SpooledEvent.encoded(offset, EventCodec.encode(e));
  }

  @Test
  void heldEventsReadBackExactlyAcrossChunks() {
    RecordArena arena = new RecordArena();
    List<TrafficEvent> events = new ArrayList<>();
    List<SpooledEvent> held = new ArrayList<>();
    // Records of 1 to 20 KiB: about 30 MiB in all, so records meet chunk ends everywhere.
    for (int i = 0; i < 3000; i++) {
      TrafficEvent e = event(i, 1 + (i * 7919) % 20_000);
      events.add(e);
      SpooledEvent h = arena.hold(spooled(100 + i, e));
      assertThat(h.heapRecord()).isNull();
      held.add(h);
    }
    assertThat(arena.capacity()).isGreaterThan(RecordArena.CHUNK_BYTES);
    for (int i = 0; i < held.size(); i++) {
      SpooledEvent h = held.get(i);
      TrafficEvent e = events.get(i);
      assertThat(h.offset()).isEqualTo(100 + i);
      assertThat(h.event()).isEqualTo(e);
      assertThat(h.eventId()).isEqualTo(e.eventId());
      assertThat(h.organizationId()).isEqualTo(e.organizationId());
      assertThat(h.timestamp()).isEqualTo(e.timestamp());
      assertThat(h).isEqualTo(spooled(100 + i, e));
    }
  }

  @Test
  void aClearedBatchCannotBeReadAndItsMemoryIsReused() {
    RecordArena arena = new RecordArena();
    List<SpooledEvent> first = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      first.add(arena.hold(spooled(i, event(i, 1000))));
    }
    long capacity = arena.capacity();
    arena.clear();
    assertThatThrownBy(() -> first.get(0).event())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("after its batch was done");
    assertThatThrownBy(() -> first.get(1999).organizationId())
        .isInstanceOf(IllegalStateException.class);

    List<SpooledEvent> second = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      second.add(arena.hold(spooled(5000 + i, event(5000 + i, 1000))));
    }
    assertThat(arena.capacity()).isEqualTo(capacity);
    assertThat(second.get(0).event()).isEqualTo(event(5000, 1000));
    assertThat(second.get(1999).event()).isEqualTo(event(6999, 1000));
  }

  @Test
  void largeAndDecodedEventsStayOnTheHeap() {
    RecordArena arena = new RecordArena();
    TrafficEvent big = event(1, RecordArena.CHUNK_BYTES / 2);
    SpooledEvent large = spooled(1, big);
    assertThat(arena.hold(large)).isSameAs(large);
    SpooledEvent decoded = new SpooledEvent(2, event(2, 10));
    assertThat(arena.hold(decoded)).isSameAs(decoded);
    assertThat(arena.capacity()).isZero();
    arena.clear();
    assertThat(large.event()).isEqualTo(big);
  }

  @Test
  void whenDirectMemoryRunsOutTheRestOfTheBatchStaysOnTheHeap() {
    int[] allocations = {0};
    RecordArena arena =
        new RecordArena(
            n -> {
              allocations[0]++;
              if (allocations[0] > 2) {
                throw new OutOfMemoryError(
                    "Cannot reserve " + n + " bytes of direct buffer memory");
              }
              return ByteBuffer.allocateDirect(n);
            });
    List<SpooledEvent> held = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      held.add(arena.hold(spooled(i, event(i, 1000))));
    }
    assertThat(arena.capacity()).isEqualTo(2L * RecordArena.CHUNK_BYTES);
    // Two chunks hold the first records; the rest stayed on the heap, after one refused try.
    assertThat(allocations[0]).isEqualTo(3);
    assertThat(held.get(0).heapRecord()).isNull();
    assertThat(held.get(2999).heapRecord()).isNotNull();
    for (int i = 0; i < held.size(); i++) {
      assertThat(held.get(i).event()).isEqualTo(event(i, 1000));
    }
    // The next batch tries again once it has filled the chunks it has.
    arena.clear();
    for (int i = 0; i < 3000; i++) {
      arena.hold(spooled(i, event(i, 1000)));
    }
    assertThat(allocations[0]).isEqualTo(4);
  }

  @Test
  void heldRecordsOfEveryVersionAndWithoutAnOrganizationReadBackAsOnTheHeap() {
    RecordArena arena = new RecordArena();
    TrafficEvent s = event(1, 10);
    TrafficEvent noOrganization = event("", 1, 10);
    List<byte[]> records =
        List.of(
            EventCodec.encode(s), EventCodec.encode(noOrganization), LegacyEventEncoding.encode(s));
    for (int i = 0; i < records.size(); i++) {
      SpooledEvent heap = SpooledEvent.encoded(i, records.get(i));
      SpooledEvent held = arena.hold(heap);
      assertThat(held.heapRecord()).as("record %d", i).isNull();
      assertThat(held.eventId()).isEqualTo(heap.eventId());
      assertThat(held.organizationId()).isEqualTo(heap.organizationId());
      assertThat(held.timestamp()).isEqualTo(heap.timestamp());
      assertThat(held.event()).isEqualTo(heap.event());
    }
  }

  @Test
  void aRecordFromTheReadersArrayIsCheckedAndHeldWithoutKeepingThatArray() {
    RecordArena arena = new RecordArena();
    // One array of the reader's, longer than any record, rewritten for each; junk after each.
    byte[] reused = new byte[RecordArena.CHUNK_BYTES];
    List<byte[]> records = new ArrayList<>();
    List<SpooledEvent> held = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      byte[] record =
          i % 3 == 2
              ? LegacyEventEncoding.encode(event(i, 5 + i * 37))
              : EventCodec.encode(event(i, 5 + i * 37));
      records.add(record);
      java.util.Arrays.fill(reused, (byte) i);
      System.arraycopy(record, 0, reused, 0, record.length);
      SpooledEvent h = arena.hold(i, reused, record.length, null);
      assertThat(h.heapRecord()).isNull();
      held.add(h);
    }
    java.util.Arrays.fill(reused, (byte) 0);
    for (int i = 0; i < held.size(); i++) {
      SpooledEvent heap = SpooledEvent.encoded(i, records.get(i));
      assertThat(held.get(i).offset()).isEqualTo(i);
      assertThat(held.get(i).event()).isEqualTo(heap.event());
      assertThat(held.get(i).eventId()).isEqualTo(heap.eventId());
      assertThat(held.get(i).organizationId()).isEqualTo(heap.organizationId());
      assertThat(held.get(i).timestamp()).isEqualTo(heap.timestamp());
      assertThat(held.get(i)).isEqualTo(heap);
    }

    // Too large to hold: a heap array of exactly the record, not the reader's.
    byte[] big = EventCodec.encode(event(1, RecordArena.CHUNK_BYTES / 2));
    System.arraycopy(big, 0, reused, 0, big.length);
    SpooledEvent large = arena.hold(7, reused, big.length, null);
    java.util.Arrays.fill(reused, (byte) 0);
    assertThat(large.heapRecord()).isEqualTo(big);
    arena.clear();
    assertThat(large.event()).isEqualTo(EventCodec.decode(big));

    // A record that does not check is refused before anything is held.
    byte[] bad = EventCodec.encode(event(2, 10));
    System.arraycopy(bad, 0, reused, 0, bad.length);
    assertThatThrownBy(() -> arena.hold(8, reused, bad.length - 3, null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void whenDirectMemoryRunsOutARecordFromTheReadersArrayGetsAHeapArrayOfItsOwn() {
    RecordArena arena =
        new RecordArena(
            n -> {
              throw new OutOfMemoryError("Cannot reserve " + n + " bytes of direct buffer memory");
            });
    byte[] record = EventCodec.encode(event(3, 100));
    byte[] reused = java.util.Arrays.copyOf(record, record.length + 50);
    SpooledEvent h = arena.hold(3, reused, record.length, null);
    java.util.Arrays.fill(reused, (byte) 0);
    assertThat(h.heapRecord()).isEqualTo(record);
    assertThat(h.event()).isEqualTo(event(3, 100));
  }
}
