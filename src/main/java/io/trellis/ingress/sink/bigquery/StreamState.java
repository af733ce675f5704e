package io.trellis.ingress.sink.bigquery;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.base.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The sink's position in BigQuery, kept in a small file so that a restarted process keeps writing
 * the same committed stream at the same offsets, which is what lets BigQuery answer {@code
 * ALREADY_EXISTS} to a replayed append instead of storing it twice.
 *
 * <p>The row of spool offset {@code o} belongs at stream offset {@code o - base}; every row whose
 * spool offset is below {@code next} is already stored (in this stream or an earlier one) or was
 * dead-lettered by the spool.
 *
 * <pre>
 *   {"table":"projects/P/datasets/D/tables/T","stream":"projects/P/.../streams/S","base":1200,"next":5312}
 * </pre>
 *
 * Written to a temporary file, forced to disk and renamed over the old one.
 */
record StreamState(String table, String stream, long base, long next) {
  private static final ObjectMapper JSON = new ObjectMapper();

  StreamState {
    requireNonNull(table, "table is null");
    requireNonNull(stream, "stream is null");
    if (next < base) {
      throw new IllegalArgumentException("next " + next + " is below base " + base);
    }
  }

  StreamState withNext(long newNext) {
    return new StreamState(table, stream, base, newNext);
  }

  /** The stream offset of a spool offset. */
  long streamOffset(long spoolOffset) {
    return spoolOffset - base;
  }

  static Optional<StreamState> load(Path file) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    JsonNode n = JSON.readTree(file.toFile());
    if (n == null || !n.hasNonNull("stream") || !n.hasNonNull("table")) {
      throw new IOException(file + " is not a stream state file");
    }
    return Optional.of(
        new StreamState(
            n.get("table").asText(),
            n.get("stream").asText(),
            n.path("base").asLong(),
            n.path("next").asLong()));
  }

  void save(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    byte[] bytes =
        JSON.writeValueAsBytes(
            JSON.createObjectNode()
                .put("table", table)
                .put("stream", stream)
                .put("base", base)
                .put("next", next));
    DurableFiles.writeAtomically(file, bytes);
  }
}
