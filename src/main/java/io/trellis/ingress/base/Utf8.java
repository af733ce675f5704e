package io.trellis.ingress.base;

/** UTF-8 checked on the bytes, on the request path, without decoding them into text. */
public final class Utf8 {
  private Utf8() {}

  /**
   * True when the bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
   * above U+10FFFF): exactly the bytes that the JDK decodes without a replacement, checked in one
   * pass without building the text.
   */
  public static boolean isValid(byte[] b) {
    return isValid(b, 0, b.length);
  }

  /**
   * {@link #isValid(byte[])} of the bytes {@code [from, to)}; runs of eight ASCII bytes are checked
   * as one long.
   */
  public static boolean isValid(byte[] b, int from, int to) {
    int n = to;
    int i = from;
    while (i < n) {
      if (i + Long.BYTES <= n && (ByteWords.get(b, i) & ByteWords.HIGH_BITS) == 0) {
        i += Long.BYTES;
        continue;
      }
      int c = b[i];
      if (c >= 0) {
        i++;
        continue;
      }
      c &= 0xff;
      if (c < 0xc2) {
        return false; // a continuation byte, or an overlong two-byte form
      }
      if (c < 0xe0) {
        if (i + 1 >= n || (b[i + 1] & 0xc0) != 0x80) {
          return false;
        }
        i += 2;
      } else if (c < 0xf0) {
        if (i + 2 >= n) {
          return false;
        }
        int c1 = b[i + 1] & 0xff;
        if ((c1 & 0xc0) != 0x80
            || c == 0xe0 && c1 < 0xa0 // overlong
            || c == 0xed && c1 >= 0xa0 // a surrogate
            || (b[i + 2] & 0xc0) != 0x80) {
          return false;
        }
        i += 3;
      } else if (c < 0xf5) {
        if (i + 3 >= n) {
          return false;
        }
        int c1 = b[i + 1] & 0xff;
        if ((c1 & 0xc0) != 0x80
            || c == 0xf0 && c1 < 0x90 // overlong
            || c == 0xf4 && c1 >= 0x90 // above U+10FFFF
            || (b[i + 2] & 0xc0) != 0x80
            || (b[i + 3] & 0xc0) != 0x80) {
          return false;
        }
        i += 4;
      } else {
        return false;
      }
    }
    return true;
  }
}
