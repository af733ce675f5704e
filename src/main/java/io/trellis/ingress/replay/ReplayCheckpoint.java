package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * How far a replay got, kept as {@code DATA_DIR/replay/NAME.json}: per source file the byte offset
 * up to which its events are in the sink; how many rows the replay has sent (its row numbers: a
 * BigQuery stream offset is one); the sink's own note (BigQuery: the write stream); and the chunk
 * being written, if any.
 *
 * <pre>
 * {"files":{"events/org=acme/date=2026-11-01/part-1-0.ndjson":123456},
 *  "rows":5000,
 *  "sink":"{\"table\":\"projects/…\",\"stream\":\"projects/…/streams/…\",\"base\":0}",
 *  "pending":{"ends":{"events/org=acme/…":234567},"first_row":5000,"rows":200,
 *             "ids":"9f2c…","refused":[]}}
 * </pre>
 *
 * {@code pending} is written before a chunk goes to the sink and cleared with the move past it. A
 * run that finds it reads exactly those byte ranges again, so the chunk gets the same rows at the
 * same row numbers, and a sink that numbers its rows (BigQuery) recognizes what it already has.
 * Each change is written to a temporary file, forced to disk and renamed over the old one, so a
 * replay killed at any moment finds the last complete checkpoint. Not thread-safe: one replay at a
 * time per name.
 */
final class ReplayCheckpoint {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The chunk being written: where its lines end in each file, its rows, and rows refused. */
  record Pending(
      Map<String, Long> ends, long firstRow, int rows, String ids, List<String> refused) {
    Pending {
      ends = new LinkedHashMap<>(ends);
      requireNonNull(ids, "ids is null");
      refused = List.copyOf(refused);
    }
  }

  private final Path file;
  private final Map<String, Long> offsets;
  private long rows;
  private String note;
  private Pending pending;

  private ReplayCheckpoint(
      Path file, Map<String, Long> offsets, long rows, String note, Pending p) {
    this.file = requireNonNull(file, "file is null");
    this.offsets = offsets;
    this.rows = rows;
    this.note = note;
    this.pending = p;
  }

  static ReplayCheckpoint open(Path file) throws IOException {
    Map<String, Long> offsets = new TreeMap<>();
    if (!Files.isRegularFile(file)) {
      return new ReplayCheckpoint(file, offsets, 0, "", null);
    }
    JsonNode n = JSON.readTree(file.toFile());
    if (!n.has("files")) {
      // A checkpoint of file offsets alone, as ClickHouse-only replays kept it.
      offsets.putAll(JSON.convertValue(n, new TypeReference<Map<String, Long>>() {}));
      return new ReplayCheckpoint(file, offsets, 0, "", null);
    }
    offsets.putAll(JSON.convertValue(n.get("files"), new TypeReference<Map<String, Long>>() {}));
    Pending p = null;
    JsonNode pn = n.path("pending");
    if (pn.isObject()) {
      p =
          new Pending(
              JSON.convertValue(
                  pn.get("ends"), new TypeReference<LinkedHashMap<String, Long>>() {}),
              pn.path("first_row").asLong(),
              pn.path("rows").asInt(),
              pn.path("ids").asText(""),
              JSON.convertValue(pn.path("refused"), new TypeReference<List<String>>() {}));
    }
    return new ReplayCheckpoint(
        file, offsets, n.path("rows").asLong(), n.path("sink").asText(""), p);
  }

  Path file() {
    return file;
  }

  /** Where reading {@code source} starts: 0, or where the last run stopped. */
  long offset(String source) {
    return offsets.getOrDefault(source, 0L);
  }

  /** The number of the next row: how many rows earlier chunks sent. */
  long rows() {
    return rows;
  }

  /** The sink's note, or the empty string. */
  String note() {
    return note;
  }

  Optional<Pending> pending() {
    return Optional.ofNullable(pending);
  }

  /** Records the chunk about to be written, durably. */
  void begin(Pending chunk) throws IOException {
    pending = requireNonNull(chunk, "chunk is null");
    write();
  }

  /** Moves past the chunk: new offsets of its files and the next row number, durably. */
  void advance(Map<String, Long> ends, long nextRow) throws IOException {
    offsets.putAll(ends);
    rows = nextRow;
    pending = null;
    write();
  }

  /** Replaces the sink's note, durably. */
  void saveNote(String newNote) throws IOException {
    note = requireNonNull(newNote, "newNote is null");
    write();
  }

  void delete() throws IOException {
    Files.deleteIfExists(file);
  }

  private void write() throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.set("files", JSON.valueToTree(offsets));
    n.put("rows", rows);
    n.put("sink", note);
    if (pending != null) {
      ObjectNode p = n.putObject("pending");
      p.set("ends", JSON.valueToTree(pending.ends()));
      p.put("first_row", pending.firstRow());
      p.put("rows", pending.rows());
      p.put("ids", pending.ids());
      p.set("refused", JSON.valueToTree(pending.refused()));
    }
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, JSON.writeValueAsBytes(n));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
