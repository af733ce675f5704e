package io.trellis.ingress.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Speaks HTTP over a plain socket, for requests no well-behaved client library would send. */
public final class RawHttp {
  private RawHttp() {}

  /** Sends the bytes and reads everything until the server closes (at most 20 s). */
  public static String exchange(int port, byte[] request) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      return readUntilClosed(s.getInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String exchange(int port, String request) {
    return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Reads until end of stream, a reset, or the socket's timeout; returns what arrived. */
  public static String readUntilClosed(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server neither answered nor closed; got: " + out, e);
    } catch (IOException e) {
      // A reset after the answer: what arrived is the answer.
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  /** The status code of the first response in the text, or -1. */
  public static int status(String response) {
    if (!response.startsWith("HTTP/1.")) {
      return -1;
    }
    return Integer.parseInt(response.substring(9, 12));
  }

  /** The body of the first response (text after the blank line). */
  public static String body(String response) {
    int i = response.indexOf("\r\n\r\n");
    return i < 0 ? "" : response.substring(i + 4);
  }
}
