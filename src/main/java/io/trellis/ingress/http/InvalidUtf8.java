package io.trellis.ingress.http;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A body whose bytes are not valid UTF-8, decoded the way the JDK decodes them leniently (each
 * malformed sequence becomes one U+FFFD), together with the exact bytes and where each replacement
 * sits, so that any slice of the decoded text (a batch item) can be traced back to the bytes the
 * client sent for it.
 *
 * <p>A valid sequence has the same length in the bytes and in the text's UTF-8; only replacements
 * shift offsets. {@code textEnds[i]} and {@code byteEnds[i]} are where the i-th replacement ends in
 * the text's UTF-8 and in the bytes. Immutable.
 */
final class InvalidUtf8 {
  private static final int REPLACEMENT_UTF8_LENGTH = 3;

  private final byte[] bytes;
  private final String text;
  private final int[] textEnds;
  private final int[] byteEnds;

  private InvalidUtf8(byte[] bytes, String text, int[] textEnds, int[] byteEnds) {
    this.bytes = bytes;
    this.text = text;
    this.textEnds = textEnds;
    this.byteEnds = byteEnds;
  }

  /** Decodes bytes known not to be valid UTF-8. */
  static InvalidUtf8 decode(byte[] bytes) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    // One byte never becomes more than one char, and a bad sequence becomes exactly one.
    CharBuffer out = CharBuffer.allocate(bytes.length);
    int[] textEnds = new int[8];
    int[] byteEnds = new int[8];
    int n = 0;
    int shift = 0;
    while (true) {
      CoderResult r = decoder.decode(in, out, true);
      if (r.isUnderflow()) {
        break;
      }
      if (r.isOverflow()) {
        CharBuffer larger = CharBuffer.allocate(out.capacity() * 2 + 16);
        out.flip();
        out = larger.put(out);
        continue;
      }
      int at = in.position();
      out.put('\uFFFD');
      in.position(at + r.length());
      if (n == textEnds.length) {
        textEnds = Arrays.copyOf(textEnds, n * 2);
        byteEnds = Arrays.copyOf(byteEnds, n * 2);
      }
      textEnds[n] = at + shift + REPLACEMENT_UTF8_LENGTH;
      byteEnds[n] = at + r.length();
      shift += REPLACEMENT_UTF8_LENGTH - r.length();
      n++;
    }
    decoder.flush(out);
    out.flip();
    return new InvalidUtf8(
        bytes, out.toString(), Arrays.copyOf(textEnds, n), Arrays.copyOf(byteEnds, n));
  }

  /** The bytes decoded, bad sequences replaced by U+FFFD. */
  String text() {
    return text;
  }

  /** The exact bytes. Not copied: callers must not change them. */
  byte[] bytes() {
    return bytes;
  }

  /** True when a replacement lies within {@code [start, end)} of the text's UTF-8. */
  boolean replacedWithin(int start, int end) {
    for (int t : textEnds) {
      if (t > start && t - REPLACEMENT_UTF8_LENGTH < end) {
        return true;
      }
    }
    return false;
  }

  /** The exact bytes behind {@code [start, end)} of the text's UTF-8 (never inside a U+FFFD). */
  byte[] slice(int start, int end) {
    return Arrays.copyOfRange(bytes, byteOffset(start), byteOffset(end));
  }

  private int byteOffset(int textOffset) {
    int i = Arrays.binarySearch(textEnds, textOffset);
    int last = i >= 0 ? i : -i - 2;
    return last < 0 ? textOffset : byteEnds[last] + (textOffset - textEnds[last]);
  }

  @Override
  public String toString() {
    return "InvalidUtf8{bytes=" + bytes.length + ", replacements=" + textEnds.length + "}";
  }
}
