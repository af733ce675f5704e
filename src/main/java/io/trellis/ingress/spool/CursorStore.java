package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.base.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cursor per sink in {@code spool/cursors/<sink>.cursor}: the offset of the next event the sink
 * still needs, as decimal text, and on a second line the sink's own note ({@link
 * io.trellis.ingress.sink.SinkContext#metadata()}) when it has one:
 *
 * <pre>
 * 5312
 * {"table":"projects/p/datasets/d/tables/t","stream":"projects/p/.../streams/s","base":1200}
 * </pre>
 *
 * Every offset below the cursor is stored in the sink or in its dead letters. A cursor is replaced
 * atomically (temporary file, fsync, rename, directory fsync), so after a crash it is the old or
 * the new value with its note, never a torn one.
 *
 * <p>Thread-safe for different sinks; one sink's cursor is written by its one delivery thread.
 */
final class CursorStore {
  private static final Logger log = LoggerFactory.getLogger(CursorStore.class);
  static final String DIR = "cursors";
  static final String SUFFIX = ".cursor";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final Path dir;

  CursorStore(Path spoolDir) {
    this.dir = requireNonNull(spoolDir, "spoolDir is null").resolve(DIR);
  }

  static void checkName(String sink) {
    if (!NAME.matcher(sink).matches()) {
      throw new IllegalArgumentException(
          "sink name '" + sink + "' must be letters, digits, '.', '_' or '-'");
    }
  }

  /** The sink's cursor, or empty when it has none (or it cannot be read, which is logged). */
  OptionalLong load(String sink) {
    checkName(sink);
    return read(dir.resolve(sink + SUFFIX));
  }

  /** The sink's note saved with its cursor, or the empty string. */
  String metadata(String sink) {
    checkName(sink);
    try {
      List<String> lines = Files.readAllLines(dir.resolve(sink + SUFFIX), StandardCharsets.UTF_8);
      return lines.size() > 1 ? lines.get(1) : "";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  void store(String sink, long offset) throws IOException {
    store(sink, offset, "");
  }

  /** Stores the cursor and, when not empty, the sink's note (one line) with it. */
  void store(String sink, long offset, String metadata) throws IOException {
    if (metadata.indexOf('\n') >= 0 || metadata.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("a sink's note is one line");
    }
    Files.createDirectories(dir);
    Path file = dir.resolve(sink + SUFFIX);
    byte[] text =
        (offset + "\n" + (metadata.isEmpty() ? "" : metadata + "\n"))
            .getBytes(StandardCharsets.UTF_8);
    try {
      DurableFiles.writeAtomically(file, text);
    } catch (IOException e) {
      if (!Files.exists(file)) {
        throw e;
      }
      // A full disk has no block for the temporary file, yet the cursor must move for the
      // segments behind it to be freed: overwrite the existing file in place. The few bytes of a
      // cursor sit in one sector of a block the file already has, and a sector is written whole.
      Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".tmp"));
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(text);
        while (b.hasRemaining()) {
          ch.write(b, b.position());
        }
        ch.truncate(text.length);
        ch.force(true);
      } catch (IOException inPlace) {
        e.addSuppressed(inPlace);
        throw e;
      }
    }
  }

  /** Every cursor on disk, by sink name; read-only. */
  Map<String, Long> loadAll() {
    return loadAll(dir);
  }

  static Map<String, Long> loadAll(Path cursorDir) {
    Map<String, Long> out = new TreeMap<>();
    if (!Files.isDirectory(cursorDir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(cursorDir)) {
      for (Path p : s.toList()) {
        String name = p.getFileName().toString();
        if (name.endsWith(SUFFIX)) {
          read(p).ifPresent(o -> out.put(name.substring(0, name.length() - SUFFIX.length()), o));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static OptionalLong read(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      int end = text.indexOf('\n');
      long offset = Long.parseLong((end < 0 ? text : text.substring(0, end)).trim());
      if (offset < 0) {
        throw new NumberFormatException("negative");
      }
      return OptionalLong.of(offset);
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    } catch (IOException | RuntimeException e) {
      log.warn(
          "Spool cursor {} is unreadable ({}): the sink starts again from the oldest event kept",
          file,
          e.toString());
      return OptionalLong.empty();
    }
  }
}
