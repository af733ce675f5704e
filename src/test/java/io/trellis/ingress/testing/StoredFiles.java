package io.trellis.ingress.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads the NDJSON files the files sink writes. */
public final class StoredFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private StoredFiles() {}

  public static List<JsonNode> events(Path eventsDir) {
    List<JsonNode> out = new ArrayList<>();
    if (!Files.isDirectory(eventsDir)) {
      return out;
    }
    try (Stream<Path> files = Files.walk(eventsDir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".ndjson")).sorted().toList()) {
        for (String line : Files.readAllLines(f)) {
          if (!line.isBlank()) {
            try {
              out.add(JSON.readTree(line));
            } catch (IOException e) {
              // A line being written right now; it will be complete on the next read.
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
