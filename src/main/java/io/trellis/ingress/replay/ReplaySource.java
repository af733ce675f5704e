package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Which files a replay reads: the files sink's {@code events/org=ORG/date=DAY/*.ndjson} of the days
 * and organization asked for, or every dead-letter file of the target sink (whose events are then
 * filtered by day and organization line by line). Immutable.
 */
record ReplaySource(
    Path dataDir,
    LocalDate from,
    LocalDate to,
    String organization,
    boolean deadLetters,
    String sink) {

  ReplaySource {
    requireNonNull(dataDir, "dataDir is null");
    requireNonNull(from, "from is null");
    requireNonNull(to, "to is null");
    requireNonNull(sink, "sink is null");
    if (to.isBefore(from)) {
      throw new IllegalArgumentException("--to " + to + " is before --from " + from);
    }
  }

  /** The files to read, in a stable order. */
  List<Path> files() {
    List<Path> out = new ArrayList<>();
    if (deadLetters) {
      Path dir = dataDir.resolve("dead-letters").resolve(sink);
      out.addAll(list(dir, p -> p.getFileName().toString().endsWith(".ndjson")));
      return out;
    }
    Path events = dataDir.resolve("events");
    for (Path orgDir : list(events, p -> p.getFileName().toString().startsWith("org="))) {
      String org = orgDir.getFileName().toString().substring(4);
      if (organization != null && !organization.equals(org)) {
        continue;
      }
      for (Path dayDir : list(orgDir, p -> p.getFileName().toString().startsWith("date="))) {
        LocalDate day;
        try {
          day = LocalDate.parse(dayDir.getFileName().toString().substring(5));
        } catch (DateTimeParseException e) {
          continue;
        }
        if (!day.isBefore(from) && !day.isAfter(to)) {
          out.addAll(list(dayDir, p -> p.getFileName().toString().endsWith(".ndjson")));
        }
      }
    }
    return out;
  }

  /** True when an event of this organization and UTC day belongs to the replay. */
  boolean wants(String org, LocalDate day) {
    return (organization == null || organization.equals(org))
        && !day.isBefore(from)
        && !day.isAfter(to);
  }

  /** A name for the replay's checkpoint: the same request resumes, another starts afresh. */
  String checkpointName() {
    return sink
        + "-"
        + from
        + "-"
        + to
        + "-"
        + (organization == null ? "all" : organization.replaceAll("[^A-Za-z0-9_.-]", "_"))
        + (deadLetters ? "-dead-letters" : "-events")
        + ".json";
  }

  private static List<Path> list(Path dir, java.util.function.Predicate<Path> keep) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(keep).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
