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
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cursor per sink in {@code spool/cursors/<sink>.cursor}: the offset of the next event the sink
 * still needs, as decimal text. Every offset below it is stored in the sink or in its dead letters.
 * A cursor is replaced atomically (temporary file, fsync, rename, directory fsync), so after a
 * crash it is the old or the new value, never a torn one.
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

  void store(String sink, long offset) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(sink + SUFFIX);
    byte[] text = (offset + "\n").getBytes(StandardCharsets.US_ASCII);
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
      String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
      long offset = Long.parseLong(text);
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
