package io.trellis.ingress.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Raw client sockets from chosen loopback addresses (127.0.0.2 and so on are local too). */
public final class Sockets {
  private Sockets() {}

  /** A socket from {@code source} to the port on 127.0.0.1, with a 10 s read timeout. */
  public static Socket connect(String source, int port) {
    Socket s = new Socket();
    try {
      s.bind(new InetSocketAddress(source, 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(10_000);
      return s;
    } catch (IOException e) {
      close(s);
      throw new UncheckedIOException(e);
    }
  }

  public static void write(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  /**
   * Reads one answer: its head, then as many body bytes as its Content-Length says. The server may
   * keep the connection open after it (a refused body is read and dropped for a while).
   */
  public static String readAnswer(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        return head.toString();
      }
      head.append((char) b);
    }
    Matcher m = LENGTH.matcher(head);
    int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
    return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
  }

  private static final Pattern LENGTH = Pattern.compile("(?i)content-length:\\s*(\\d+)");

  public static void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing
    }
  }
}
