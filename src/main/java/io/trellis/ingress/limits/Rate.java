package io.trellis.ingress.limits;

/**
 * A rate limit: {@code perSecond} events per second on average, bursts of up to {@code burst}.
 * {@link #UNLIMITED} (rate 0) turns the limit off.
 */
public record Rate(int perSecond, int burst) {
  public static final Rate UNLIMITED = new Rate(0, 0);

  public Rate {
    if (perSecond < 0 || burst < 0) {
      throw new IllegalArgumentException("rate and burst must be 0 or more");
    }
    if (perSecond > 0 && burst == 0) {
      burst = perSecond;
    }
  }

  public boolean unlimited() {
    return perSecond == 0;
  }

  /** Parses {@code RATE} or {@code RATE:BURST}; {@code 0} and {@code off} mean unlimited. */
  static Rate parse(String text) {
    String t = text.trim();
    if (t.equalsIgnoreCase("off") || t.equals("0")) {
      return UNLIMITED;
    }
    int colon = t.indexOf(':');
    try {
      if (colon < 0) {
        return new Rate(Integer.parseInt(t), 0);
      }
      return new Rate(
          Integer.parseInt(t.substring(0, colon).trim()),
          Integer.parseInt(t.substring(colon + 1).trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "expected RATE or RATE:BURST (events per second, bucket size), got '" + text + "'");
    }
  }

  @Override
  public String toString() {
    return unlimited() ? "unlimited" : perSecond + "/s burst " + burst;
  }
}
