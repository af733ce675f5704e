package io.trellis.ingress.replay;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress line of a replay: events, bytes read of the total, rate and time left, printed at
 * most once a second. On a terminal the line is rewritten in place; otherwise one line each time.
 * Not thread-safe.
 */
final class ReplayProgress {
  private final PrintStream out;
  private final boolean terminal;
  private final long totalBytes;
  private final long startNanos = System.nanoTime();
  private long lastPrint;
  private long lastEvents = -1;
  private long lastBytes = -1;

  ReplayProgress(PrintStream out, boolean terminal, long totalBytes) {
    this.out = out;
    this.terminal = terminal;
    this.totalBytes = totalBytes;
  }

  void update(long events, long bytes, boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastPrint < 1_000_000_000L) {
      return;
    }
    lastPrint = now;
    String line = line(events, bytes, (now - startNanos) / 1e9);
    // The final line of a run that just printed the same counts says nothing new.
    if (force && !terminal && events == lastEvents && bytes == lastBytes) {
      return;
    }
    lastEvents = events;
    lastBytes = bytes;
    if (terminal) {
      out.print("\r" + line + "  ");
      if (force) {
        out.println();
      }
    } else {
      out.println(line);
    }
    out.flush();
  }

  String line(long events, long bytes, double seconds) {
    double pct = totalBytes == 0 ? 100 : 100.0 * bytes / totalBytes;
    int filled = (int) Math.round(pct / 5);
    String bar = "#".repeat(Math.min(20, filled)) + ".".repeat(Math.max(0, 20 - filled));
    double rate = seconds > 0 ? events / seconds : 0;
    double byteRate = seconds > 0 ? bytes / seconds : 0;
    String eta =
        byteRate > 0 && bytes < totalBytes
            ? duration((totalBytes - bytes) / byteRate)
            : bytes >= totalBytes ? "0s" : "?";
    return String.format(
        Locale.ROOT,
        "[%s] %5.1f%%  %,d events  %s / %s  %,.0f events/s  %s/s  ETA %s",
        bar,
        pct,
        events,
        size(bytes),
        size(totalBytes),
        rate,
        size((long) byteRate),
        eta);
  }

  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s < 60
        ? s + "s"
        : s < 3600 ? (s / 60) + "m" + (s % 60) + "s" : (s / 3600) + "h" + (s % 3600 / 60) + "m";
  }
}
