package io.trellis.ingress.sink.files;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the files sink keeps with its spool cursor ({@link io.trellis.ingress.sink.SinkContext}):
 * the run whose files it writes, the sequence number its next new file will get, and the size of
 * each file it has open, all taken when the lines below the cursor were forced to disk. Bytes
 * beyond those sizes, and files of that run numbered from {@code next} on, hold only events at or
 * above the cursor, which the spool delivers again after a crash.
 *
 * <pre>
 * files1 1765000000000 7 org=acme/date=2026-12-04/part-1765000000000-5.ndjson 1048576 ...
 * </pre>
 *
 * Paths are relative to the sink's directory, with '/' between parts; organization directories are
 * {@link FilesSink#safeName} forms, so a path never holds a space. Immutable.
 */
record FilesNote(String run, int next, Map<String, Long> sizes) {
  private static final String MAGIC = "files1";

  FilesNote {
    requireNonNull(run, "run is null");
    sizes = Collections.unmodifiableMap(new LinkedHashMap<>(sizes));
  }

  String text() {
    StringBuilder sb = new StringBuilder(64 + sizes.size() * 72);
    sb.append(MAGIC).append(' ').append(run).append(' ').append(next);
    for (Map.Entry<String, Long> e : sizes.entrySet()) {
      sb.append(' ').append(e.getKey()).append(' ').append(e.getValue());
    }
    return sb.toString();
  }

  /** The note in {@code text}, or null when there is none or it is not a files sink's note. */
  static FilesNote parse(String text) {
    if (text == null || !text.startsWith(MAGIC + " ")) {
      return null;
    }
    String[] t = text.trim().split(" ");
    if (t.length < 3 || t.length % 2 == 0) {
      return null;
    }
    try {
      Map<String, Long> sizes = new LinkedHashMap<>();
      for (int i = 3; i < t.length; i += 2) {
        long size = Long.parseLong(t[i + 1]);
        if (size < 0 || t[i].contains("..") || t[i].startsWith("/")) {
          return null;
        }
        sizes.put(t[i], size);
      }
      int next = Integer.parseInt(t[2]);
      return next < 0 || t[1].isEmpty() ? null : new FilesNote(t[1], next, sizes);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
