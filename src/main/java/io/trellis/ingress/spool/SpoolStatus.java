package io.trellis.ingress.spool;

import io.trellis.ingress.event.EventCodec;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What is in a spool directory, read without the running service and without changing or locking
 * anything: segments, bytes, offsets, and per sink its cursor, lag in events and in seconds (the
 * age of the oldest event it has not stored yet), and dead-letter counts. Safe to take while the
 * service runs: it reads only what is complete, and a record being written at that moment is just
 * not counted yet.
 *
 * @param bytes bytes of the segment files
 * @param spareBytes bytes of consumed segment files kept for reuse (they count in the disk budget)
 */
public record SpoolStatus(
    Path directory,
    int segments,
    long bytes,
    long spareBytes,
    long oldestOffset,
    long nextOffset,
    long quarantined,
    List<SinkStatus> sinks) {

  /** One sink's position in the spool. */
  public record SinkStatus(
      String name,
      boolean configured,
      long cursor,
      long lagEvents,
      double lagSeconds,
      long deadLetters) {}

  /** Reads the spool under {@code dataDir/spool} (and dead letters under {@code dataDir}). */
  public static SpoolStatus read(Path dataDir) throws IOException {
    Path dir = dataDir.resolve("spool");
    TreeMap<Long, Path> segments = SegmentLog.listSegments(dir);
    long bytes = 0;
    for (Path p : segments.values()) {
      bytes += sizeOrZero(p);
    }
    long spareBytes = 0;
    for (Path p : SegmentLog.listSpares(dir)) {
      spareBytes += sizeOrZero(p);
    }
    long oldest = segments.isEmpty() ? 0 : segments.firstKey();
    long next =
        segments.isEmpty()
            ? 0
            : lastOffsetIn(segments.lastEntry().getValue(), segments.lastKey()) + 1;
    Set<String> configured = configuredSinks(dir);
    Map<String, Long> cursors = CursorStore.loadAll(dir.resolve(CursorStore.DIR));
    Map<String, Long> dead = DeadLetters.count(dataDir.resolve("dead-letters"));
    Set<String> names = new TreeSet<>(configured);
    names.addAll(cursors.keySet());
    List<SinkStatus> sinks = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (String name : names) {
      long cursor = Math.max(cursors.getOrDefault(name, oldest), oldest);
      long lag = Math.max(0, next - cursor);
      double seconds = 0;
      if (lag > 0) {
        long ts = timestampAt(segments, cursor);
        seconds = ts < 0 ? 0 : Math.max(0, now - ts) / 1000.0;
      }
      sinks.add(
          new SinkStatus(
              name, configured.contains(name), cursor, lag, seconds, dead.getOrDefault(name, 0L)));
    }
    return new SpoolStatus(
        dir,
        segments.size(),
        bytes,
        spareBytes,
        oldest,
        next,
        Quarantine.count(dir),
        List.copyOf(sinks));
  }

  private static Set<String> configuredSinks(Path dir) throws IOException {
    Set<String> out = new TreeSet<>();
    try {
      for (String line :
          Files.readAllLines(dir.resolve(DiskSpool.SINKS_FILE), StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          out.add(line.trim());
        }
      }
    } catch (NoSuchFileException e) {
      // Never started.
    }
    return out;
  }

  /** The offset of the last readable record of the segment, or {@code base - 1}. */
  private static long lastOffsetIn(Path segment, long base) throws IOException {
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
      SegmentScanner s =
          new SegmentScanner(
              ch, Integer.MAX_VALUE - 64, Segment.readHeader(ch, base), ch.size(), base - 1);
      long last = base - 1;
      while (s.next() == SegmentScanner.Status.RECORD) {
        last = s.recordOffset();
      }
      return last;
    } catch (NoSuchFileException | Segment.BadHeaderException e) {
      return base - 1;
    }
  }

  /** Receipt time of the first readable event at or after {@code offset}; -1 when none. */
  private static long timestampAt(TreeMap<Long, Path> segments, long offset) throws IOException {
    Map.Entry<Long, Path> start = segments.floorEntry(offset);
    if (start == null) {
      start = segments.firstEntry();
    }
    for (Map.Entry<Long, Path> e : segments.tailMap(start.getKey(), true).entrySet()) {
      try (FileChannel ch = FileChannel.open(e.getValue(), StandardOpenOption.READ)) {
        SegmentScanner s =
            new SegmentScanner(
                ch,
                Integer.MAX_VALUE - 64,
                Segment.readHeader(ch, e.getKey()),
                ch.size(),
                e.getKey() - 1);
        while (s.next() == SegmentScanner.Status.RECORD) {
          if (s.recordOffset() >= offset) {
            try {
              return EventCodec.decode(s.payload()).timestamp();
            } catch (IllegalArgumentException bad) {
              return -1;
            }
          }
        }
      } catch (NoSuchFileException gone) {
        // Deleted by the running service meanwhile: the sink is past it.
      } catch (Segment.BadHeaderException unreadable) {
        // Quarantined by the service when it opens the spool.
      }
    }
    return -1;
  }

  private static long sizeOrZero(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }
}
