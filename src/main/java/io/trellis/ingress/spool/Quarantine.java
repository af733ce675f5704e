package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.base.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the bytes of corrupt records out of the way, under {@code spool/quarantine/}: a range
 * {@code [from, to)} of segment {@code S} is copied to {@code S@from.bin}, with the reason in
 * {@code S@from.txt}. Each range is quarantined once: finding it again (another sink's reader, or a
 * restart) neither copies nor counts it again, so corruption never causes a loop.
 *
 * <p>Thread-safe (synchronized).
 */
final class Quarantine {
  private static final Logger log = LoggerFactory.getLogger(Quarantine.class);
  static final String DIR = "quarantine";

  private final Path dir;
  private final Counter ranges;
  private final Counter bytes;

  Quarantine(Path spoolDir, MeterRegistry metrics) {
    this.dir = requireNonNull(spoolDir, "spoolDir is null").resolve(DIR);
    this.ranges = metrics.counter("trellis.spool.quarantined.ranges");
    this.bytes = metrics.counter("trellis.spool.quarantined.bytes");
  }

  /**
   * Copies {@code [from, to)} of the segment into quarantine unless it already is there. Returns
   * true when this call quarantined it. Never throws: a failure to copy is logged, and the caller
   * skips the range anyway (the original bytes stay in the segment until it is deleted).
   */
  synchronized boolean range(Path segment, long from, long to, String reason) {
    return range(segment, from, to, reason, null);
  }

  /**
   * As {@link #range(Path, long, long, String)}, for the bytes of damaged frames: {@code events}
   * are the offsets of the events they held (see {@link #lostOffsets}), written into the note.
   */
  synchronized boolean range(Path segment, long from, long to, String reason, String events) {
    String name = segment.getFileName() + "@" + from;
    Path target = dir.resolve(name + ".bin");
    if (Files.exists(target)) {
      return false;
    }
    try {
      Files.createDirectories(dir);
      ByteBuffer data = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE, to - from));
      try (FileChannel in = FileChannel.open(segment, StandardOpenOption.READ)) {
        FileReads.readAt(in, data, from);
      }
      byte[] copy = new byte[data.remaining()];
      data.get(copy);
      DurableFiles.writeAtomically(
          dir.resolve(name + ".txt"), note(segment, from, to, reason, events));
      DurableFiles.writeAtomically(target, copy);
    } catch (IOException | UncheckedIOException e) {
      log.error("Could not copy corrupt bytes {}..{} of {} into {}: {}", from, to, segment, dir, e);
    }
    ranges.increment();
    bytes.increment(to - from);
    return true;
  }

  /** Moves a whole file that is not a readable segment into quarantine. */
  synchronized void file(Path file, String reason) throws IOException {
    Files.createDirectories(dir);
    String name = file.getFileName() + "@whole";
    long size = Files.size(file);
    DurableFiles.writeAtomically(dir.resolve(name + ".txt"), note(file, 0, size, reason, null));
    Files.move(file, dir.resolve(name + ".bin"), StandardCopyOption.REPLACE_EXISTING);
    DurableFiles.syncDirectory(file.getParent());
    ranges.increment();
    bytes.increment(size);
  }

  /** Number of quarantined ranges on disk. */
  static long count(Path spoolDir) {
    Path d = spoolDir.resolve(DIR);
    if (!Files.isDirectory(d)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.toString().endsWith(".bin")).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The offsets of the events in damaged frames, from what surrounds them: every offset after the
   * last good event before them up to the first good one after them ({@code next}, or -1 when no
   * good frame follows in the segment). A damaged frame's own header cannot be trusted, but offsets
   * count up without gaps within a segment, so the missing ones are exactly these.
   */
  static String lostOffsets(long lastGood, long next) {
    if (next < 0) {
      return (lastGood + 1) + "..";
    }
    if (next <= lastGood + 1) {
      return "none";
    }
    return (lastGood + 1) + ".." + (next - 1);
  }

  private static byte[] note(Path file, long from, long to, String reason, String events) {
    return ("file="
            + file.getFileName()
            + "\nfrom="
            + from
            + "\nto="
            + to
            + "\nreason="
            + reason
            + (events == null ? "" : "\noffsets=" + events)
            + "\nat="
            + Instant.now()
            + "\n")
        .getBytes(StandardCharsets.UTF_8);
  }
}
