package io.trellis.ingress.http;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Undoes a request's {@code Content-Encoding} (gzip, deflate) within a byte limit. Inflation stops
 * as soon as the output passes the limit, so a small body that would inflate to gigabytes costs at
 * most {@code limit} bytes of memory and the time to produce them. Stateless.
 */
final class Inflation {
  /** The inflated body would exceed the limit (413). */
  static final class TooLargeException extends Exception {
    TooLargeException() {
      super(null, null, false, false);
    }
  }

  /** The body is not valid data of its declared encoding (400). */
  static final class InvalidException extends Exception {
    InvalidException(String message) {
      super(message, null, false, false);
    }
  }

  /** The encoding is not one this service decodes (415). */
  static final class UnsupportedException extends Exception {
    UnsupportedException(String message) {
      super(message, null, false, false);
    }
  }

  private Inflation() {}

  /**
   * Decodes the body per the {@code Content-Encoding} header (codings listed in the order they were
   * applied, so they are undone from last to first).
   */
  static byte[] decode(String contentEncoding, byte[] body, long limit)
      throws TooLargeException, InvalidException, UnsupportedException {
    if (contentEncoding == null || contentEncoding.isBlank()) {
      return body;
    }
    String[] codings = contentEncoding.split(",");
    if (codings.length > 2) {
      throw new UnsupportedException("at most two content codings are accepted");
    }
    byte[] out = body;
    for (int i = codings.length - 1; i >= 0; i--) {
      String coding = codings[i].trim().toLowerCase(Locale.ROOT);
      switch (coding) {
        case "identity", "" -> {}
        case "gzip", "x-gzip" -> out = gunzip(out, limit);
        case "deflate" -> out = inflate(out, limit);
        default ->
            throw new UnsupportedException(
                "Content-Encoding " + coding + " is not supported; use gzip, deflate or none");
      }
    }
    return out;
  }

  private static byte[] gunzip(byte[] in, long limit) throws TooLargeException, InvalidException {
    if (in.length == 0) {
      return in;
    }
    try (InputStream s = new GZIPInputStream(new ByteArrayInputStream(in), 8192)) {
      return readBounded(s, limit);
    } catch (TooLargeException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidException("the body is not valid gzip data");
    }
  }

  /**
   * HTTP's "deflate" is the zlib format, but some clients send raw deflate data: the zlib header (a
   * checksummed two-byte prefix) tells them apart.
   */
  private static byte[] inflate(byte[] in, long limit) throws TooLargeException, InvalidException {
    if (in.length == 0) {
      return in;
    }
    boolean zlib =
        in.length >= 2 && (in[0] & 0x0F) == 8 && (((in[0] & 0xFF) << 8) | (in[1] & 0xFF)) % 31 == 0;
    Inflater inflater = new Inflater(!zlib);
    try (InputStream s = new InflaterInputStream(new ByteArrayInputStream(in), inflater, 8192)) {
      byte[] out = readBounded(s, limit);
      if (!inflater.finished()) {
        throw new InvalidException("the body is truncated deflate data");
      }
      return out;
    } catch (TooLargeException | InvalidException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidException("the body is not valid deflate data");
    } finally {
      inflater.end();
    }
  }

  private static byte[] readBounded(InputStream in, long limit)
      throws IOException, TooLargeException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    byte[] buf = new byte[8192];
    long total = 0;
    int n;
    while ((n = in.read(buf)) > 0) {
      total += n;
      if (total > limit) {
        throw new TooLargeException();
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }
}
