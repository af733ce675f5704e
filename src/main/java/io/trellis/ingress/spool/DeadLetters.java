package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.SpooledEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

/**
 * Events a sink refused as permanently bad, kept with the reason under {@code
 * DATA_DIR/dead-letters/<sink>/<YYYY-MM-DD>.ndjson}, one line each:
 *
 * <pre>
 * {"sink":"files","offset":42,"reason":"...","dead_lettered_at":"...","event":{...}}
 * </pre>
 *
 * {@code event} is the stored event exactly as the files sink writes it; a record that cannot even
 * be decoded has {@code "raw_base64"} instead. Lines are forced to disk before the sink's cursor
 * moves past them: a dead letter is the only copy of its event.
 *
 * <p>Not thread-safe: one per sink, used by that sink's delivery thread.
 */
final class DeadLetters {
  private static final JsonFactory JSON = new JsonFactory();
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
  static final String SUFFIX = ".ndjson";

  private final String sink;
  private final Path dir;

  DeadLetters(Path deadLetterRoot, String sink) {
    this.sink = requireNonNull(sink, "sink is null");
    this.dir = requireNonNull(deadLetterRoot, "deadLetterRoot is null").resolve(sink);
  }

  /** One refused event and why. */
  record Entry(long offset, String reason, SpooledEvent event, byte[] raw) {}

  void write(List<Entry> entries) throws IOException {
    long now = System.currentTimeMillis();
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024 * entries.size());
    for (Entry e : entries) {
      line(out, e, now);
    }
    Files.createDirectories(dir);
    Path file = dir.resolve(DAY.format(Instant.ofEpochMilli(now)) + SUFFIX);
    try (FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer b = ByteBuffer.wrap(out.toByteArray());
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
  }

  private void line(ByteArrayOutputStream out, Entry e, long now) throws IOException {
    try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
      g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
      g.writeStartObject();
      g.writeStringField("sink", sink);
      g.writeNumberField("offset", e.offset());
      g.writeStringField("reason", e.reason() == null ? "" : e.reason());
      g.writeStringField("dead_lettered_at", Instant.ofEpochMilli(now).toString());
      if (e.event() != null) {
        ByteArrayOutputStream ev = new ByteArrayOutputStream(512);
        EventLines.write(ev, e.event().event(), now);
        byte[] bytes = ev.toByteArray();
        g.writeFieldName("event");
        g.writeRawValue(
            new String(bytes, 0, bytes.length - 1, java.nio.charset.StandardCharsets.UTF_8));
      } else {
        g.writeStringField("raw_base64", Base64.getEncoder().encodeToString(e.raw()));
      }
      g.writeEndObject();
    }
    out.write('\n');
  }

  /** Lines in every dead-letter file of every sink under the root, by sink; read-only. */
  static java.util.Map<String, Long> count(Path deadLetterRoot) {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    if (!Files.isDirectory(deadLetterRoot)) {
      return out;
    }
    try (Stream<Path> sinks = Files.list(deadLetterRoot)) {
      for (Path s : sinks.filter(Files::isDirectory).toList()) {
        long n = 0;
        try (Stream<Path> files = Files.list(s)) {
          for (Path f : files.filter(p -> p.toString().endsWith(SUFFIX)).toList()) {
            try (Stream<String> lines = Files.lines(f)) {
              n += lines.filter(l -> !l.isBlank()).count();
            }
          }
        }
        out.put(s.getFileName().toString(), n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
