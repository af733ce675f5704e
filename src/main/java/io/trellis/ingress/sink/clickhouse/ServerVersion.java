package io.trellis.ingress.sink.clickhouse;

/** A ClickHouse server version as {@code SELECT version()} reports it, e.g. {@code 24.8.4.13}. */
public record ServerVersion(int major, int minor, String text)
    implements Comparable<ServerVersion> {

  public static ServerVersion parse(String text) {
    String t = text == null ? "" : text.trim();
    String[] parts = t.split("\\.");
    try {
      if (parts.length >= 2) {
        return new ServerVersion(
            Integer.parseInt(parts[0]), Integer.parseInt(leadingDigits(parts[1])), t);
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException("not a ClickHouse version: '" + t + "'");
  }

  public boolean atLeast(int major, int minor) {
    return this.major > major || (this.major == major && this.minor >= minor);
  }

  @Override
  public int compareTo(ServerVersion o) {
    return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
  }

  private static String leadingDigits(String s) {
    int i = 0;
    while (i < s.length() && Character.isDigit(s.charAt(i))) {
      i++;
    }
    return s.substring(0, i);
  }

  @Override
  public String toString() {
    return text;
  }
}
