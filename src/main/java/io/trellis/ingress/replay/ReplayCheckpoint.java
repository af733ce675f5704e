package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * How far a replay got: per source file, the byte offset up to which its events are in the sink.
 * Kept as {@code DATA_DIR/replay/NAME.json}, written to a temporary file, forced to disk and
 * renamed over the old one, so a replay killed at any moment finds the last complete checkpoint. A
 * kill between an insert and its checkpoint is covered by the sink's event_id check, not by this
 * file. Not thread-safe: one replay at a time per name.
 */
final class ReplayCheckpoint {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Map<String, Long> offsets;

  private ReplayCheckpoint(Path file, Map<String, Long> offsets) {
    this.file = requireNonNull(file, "file is null");
    this.offsets = offsets;
  }

  static ReplayCheckpoint open(Path file) throws IOException {
    Map<String, Long> offsets = new TreeMap<>();
    if (Files.isRegularFile(file)) {
      offsets.putAll(JSON.readValue(file.toFile(), new TypeReference<Map<String, Long>>() {}));
    }
    return new ReplayCheckpoint(file, offsets);
  }

  Path file() {
    return file;
  }

  /** Where reading {@code source} starts: 0, or where the last run stopped. */
  long offset(String source) {
    return offsets.getOrDefault(source, 0L);
  }

  /** Records new offsets of source files and forces the checkpoint to disk. */
  void advance(Map<String, Long> ends) throws IOException {
    offsets.putAll(ends);
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, JSON.writeValueAsBytes(offsets));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  void delete() throws IOException {
    Files.deleteIfExists(file);
  }
}
