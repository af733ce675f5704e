package io.trellis.ingress.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The value types a setting can have; {@link #check} turns a bad value into a readable message. */
public enum SettingType {
  STRING,
  INT,
  BOOLEAN,
  /** A duration such as {@code 250us}, {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}. */
  DURATION,
  /**
   * A size such as {@code 512}, {@code 64KiB}, {@code 1MiB}, {@code 2GiB} (KB, MB and GB are
   * 1024-based too).
   */
  SIZE,
  /** A comma-separated list of strings. */
  LIST;

  /** Returns null when the value is valid, else what is wrong with it. */
  String check(String value) {
    try {
      switch (this) {
        case INT -> parseInt(value);
        case BOOLEAN -> parseBoolean(value);
        case DURATION -> Durations.parse(value);
        case SIZE -> Sizes.parse(value);
        default -> {}
      }
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage() == null ? "invalid " + name().toLowerCase(Locale.ROOT) : e.getMessage();
    }
  }

  static int parseInt(String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected a whole number, got '" + value + "'");
    }
  }

  static boolean parseBoolean(String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException("expected true or false, got '" + value + "'");
    };
  }

  static List<String> parseList(String value) {
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String p = part.trim();
      if (!p.isEmpty()) {
        out.add(p);
      }
    }
    return List.copyOf(out);
  }
}
