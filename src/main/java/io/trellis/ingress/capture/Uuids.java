package io.trellis.ingress.capture;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/** UUID helpers: time-ordered version 7 ids (RFC 9562) and validation of client-given ids. */
public final class Uuids {
  private Uuids() {}

  /** A new UUIDv7: 48 bits of Unix milliseconds, then random bits; sorts by creation time. */
  public static UUID v7(long epochMillis) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (epochMillis << 16) | 0x7000L | (r.nextLong() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  /** The canonical lower-case form of {@code text} when it is a UUID, else null. */
  public static String canonical(String text) {
    if (text == null || text.length() != 36) {
      return null;
    }
    for (int i = 0; i < 36; i++) {
      char c = text.charAt(i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : Character.digit(c, 16) < 0) {
        return null;
      }
    }
    return text.toLowerCase(java.util.Locale.ROOT);
  }
}
