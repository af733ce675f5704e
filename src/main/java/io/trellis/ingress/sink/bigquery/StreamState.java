package io.trellis.ingress.sink.bigquery;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The sink's position in BigQuery, kept with the sink's spool cursor ({@link
 * io.trellis.ingress.sink.SinkContext}) so that a restarted process keeps writing the same
 * committed stream at the same offsets, which is what lets BigQuery answer {@code ALREADY_EXISTS}
 * to a replayed append instead of storing it twice.
 *
 * <p>The row of spool offset {@code o} belongs at stream offset {@code o - base}; every row whose
 * spool offset is below {@code next} is already stored (in this stream or an earlier one) or was
 * dead-lettered by the spool.
 *
 * <pre>
 *   {"table":"projects/P/datasets/D/tables/T","stream":"projects/P/.../streams/S","base":1200}
 * </pre>
 *
 * {@code next} is not recorded: after a restart it is the spool cursor. (Earlier versions kept the
 * same JSON, with {@code next}, in {@code stream.json}; {@link #load} reads it once.)
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

  /** The state in a cursor's note, or empty when the note is empty or not a stream state. */
  static Optional<StreamState> parse(String json) throws IOException {
    if (json == null || json.isBlank()) {
      return Optional.empty();
    }
    JsonNode n = JSON.readTree(json);
    if (n == null || !n.hasNonNull("stream") || !n.hasNonNull("table")) {
      return Optional.empty();
    }
    long base = n.path("base").asLong();
    return Optional.of(
        new StreamState(
            n.get("table").asText(),
            n.get("stream").asText(),
            base,
            Math.max(base, n.path("next").asLong())));
  }

  /** The note kept with the cursor: table, stream and base, on one line. */
  String toJson() {
    try {
      return JSON.writeValueAsString(
          JSON.createObjectNode().put("table", table).put("stream", stream).put("base", base));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The state an earlier version kept in its own file. */
  static Optional<StreamState> load(Path file) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    return parse(Files.readString(file));
  }
}
