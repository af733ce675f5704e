package io.trellis.ingress.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and prints durations as operators write them: {@code 250us}, {@code 250ms}, {@code 30s},
 * {@code 5m}. Microseconds are for the few settings that live below a millisecond (the spool's
 * group-commit delay).
 */
public final class Durations {
  private static final Pattern PATTERN = Pattern.compile("(\\d+)\\s*(us|ms|s|m|h|d)?");

  private Durations() {}

  public static Duration parse(String text) {
    Matcher m = PATTERN.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a duration such as 250us, 250ms, 30s, 5m or 1h, got '" + text + "'");
    }
    String unit = m.group(2) == null ? "ms" : m.group(2);
    try {
      long n = Long.parseLong(m.group(1));
      return switch (unit) {
        case "us" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("duration '" + text + "' is too large", e);
    }
  }

  public static String format(Duration d) {
    if (d.getNano() % 1_000_000 != 0) {
      return d.toNanos() / 1000 + "us";
    }
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms != 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms != 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0 && ms != 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }

  /**
   * An elapsed time for people, rounded to what matters at its size: {@code 850 ms}, {@code 12.3
   * s}, {@code 4m 05s}, {@code 2h 10m}.
   */
  public static String elapsed(Duration d) {
    long ms = Math.max(0, d.toMillis());
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    long s = ms / 1000;
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
  }
}
