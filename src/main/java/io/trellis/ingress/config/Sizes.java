package io.trellis.ingress.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints data sizes: {@code 512}, {@code 64KiB}, {@code 1MiB}, {@code 2GiB}. */
public final class Sizes {
  private static final Pattern PATTERN =
      Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?");

  private Sizes() {}

  public static long parse(String text) {
    Matcher m = PATTERN.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a size such as 512, 64KiB, 1MiB or 2GiB, got '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    int shift =
        switch (unit.charAt(0)) {
          case 'k' -> 10;
          case 'm' -> 20;
          case 'g' -> 30;
          case 't' -> 40;
          default -> 0;
        };
    if (shift > 0 && n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("size too large: '" + text + "'");
    }
    return n << shift;
  }

  /**
   * A size for people, in one style everywhere: {@code 512 B}, {@code 64 MiB}, {@code 38.5 GiB}
   * (one decimal when not a whole number of the unit). {@link #parse} reads it back, rounded.
   */
  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    double v = bytes;
    while (i < units.length - 1 && Math.abs(v) >= 1024) {
      v /= 1024;
      i++;
    }
    if (i == 0 || v == Math.rint(v)) {
      return (long) v + " " + units[i];
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
  }
}
