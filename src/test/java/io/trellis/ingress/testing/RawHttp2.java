package io.trellis.ingress.testing;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * HTTP/2 over clear text from the first byte, frame by frame, for what no client library sends: a
 * client that never acknowledges the server's settings, opens streams past its limit or leaves them
 * open. Headers go out as HPACK literals, never indexed; the server's are decoded to read each
 * stream's status. A thread reads every frame as it arrives.
 */
public final class RawHttp2 implements AutoCloseable {
  public static final int DATA = 0;
  public static final int HEADERS = 1;
  public static final int RST_STREAM = 3;
  public static final int GOAWAY = 7;
  public static final int CONTINUATION = 9;
  private static final int MAX_FRAME = 16_384;
  public static final int NO_ERROR = 0;
  public static final int REFUSED_STREAM = 7;
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final Socket socket;
  private final OutputStream out;
  private final Thread reader;
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
  /* Streams' statuses, and their reset codes, as they arrive. */
  private final Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
  private final Map<Integer, Integer> resets = new ConcurrentHashMap<>();
  private final Map<Integer, String> bodies = new ConcurrentHashMap<>();
  private final AtomicInteger goAway = new AtomicInteger(-1);
  private volatile boolean closed;

  private RawHttp2(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    // The preface and an empty SETTINGS frame; the server's SETTINGS are never acknowledged.
    ByteArrayOutputStream hello = new ByteArrayOutputStream();
    hello.write(PREFACE);
    hello.write(frame(4, 0, 0, new byte[0]));
    out.write(hello.toByteArray());
    out.flush();
    DataInputStream in = new DataInputStream(socket.getInputStream());
    reader = new Thread(() -> read(in), "raw-h2-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** Connects from {@code source} (a loopback address) to the port on 127.0.0.1. */
  public static RawHttp2 open(String source, int port) {
    try {
      Socket s = new Socket();
      s.bind(new InetSocketAddress(source, 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      return new RawHttp2(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A HEADERS frame, and CONTINUATION frames when needed, for a request; {@code headers} are name,
   * value pairs after the pseudo-headers of a request to 127.0.0.1.
   */
  public static byte[] request(
      int stream, String method, String path, boolean endStream, String... headers) {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    literal(block, ":method", method);
    literal(block, ":scheme", "http");
    literal(block, ":path", path);
    literal(block, ":authority", "127.0.0.1");
    for (int i = 0; i + 1 < headers.length; i += 2) {
      literal(block, headers[i], headers[i + 1]);
    }
    // A block longer than the default largest frame continues in CONTINUATION frames.
    byte[] all = block.toByteArray();
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    for (int at = 0; at == 0 || at < all.length; at += MAX_FRAME) {
      byte[] part = Arrays.copyOfRange(all, at, Math.min(all.length, at + MAX_FRAME));
      boolean last = at + MAX_FRAME >= all.length;
      int flags = (last ? 0x4 : 0) | (at == 0 && endStream ? 0x1 : 0);
      frames.writeBytes(frame(at == 0 ? HEADERS : CONTINUATION, flags, stream, part));
    }
    return frames.toByteArray();
  }

  /** A DATA frame that does not end its stream. */
  public static byte[] data(int stream, String body) {
    return frame(DATA, 0, stream, body.getBytes(StandardCharsets.UTF_8));
  }

  /** A DATA frame ending its stream. */
  public static byte[] lastData(int stream, String body) {
    return frame(DATA, 0x1, stream, body.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes frames made by {@link #request} and {@link #lastData}, as one write. */
  public void send(List<byte[]> frames) {
    try {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (byte[] f : frames) {
        all.write(f);
      }
      out.write(all.toByteArray());
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Statuses answered so far, by stream. */
  public Map<Integer, Integer> statuses() {
    return statuses;
  }

  /** Answer bodies so far, by stream. */
  public Map<Integer, String> bodies() {
    return bodies;
  }

  /** Streams the server reset so far, with the error code. */
  public Map<Integer, Integer> resets() {
    return resets;
  }

  /** The GOAWAY error code, or -1 while none arrived. */
  public int goAway() {
    return goAway.get();
  }

  /** True once the server closed the connection. */
  public boolean closed() {
    return closed;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing
    }
  }

  private void read(DataInputStream in) {
    try {
      byte[] head = new byte[9];
      while (true) {
        in.readFully(head);
        int length = ((head[0] & 0xff) << 16) | ((head[1] & 0xff) << 8) | (head[2] & 0xff);
        int type = head[3] & 0xff;
        int stream = ByteBuffer.wrap(head, 5, 4).getInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        if (type == HEADERS) {
          // The server fits its headers in one frame, with no padding; Netty's carry a priority.
          int skip = (head[4] & 0x20) != 0 ? 5 : 0;
          Http2Headers h =
              decoder.decodeHeaders(
                  stream, Unpooled.wrappedBuffer(payload, skip, payload.length - skip));
          CharSequence status = h.status();
          if (status != null) {
            statuses.put(stream, Integer.parseInt(status.toString()));
          }
        } else if (type == DATA) {
          bodies.merge(stream, new String(payload, StandardCharsets.UTF_8), String::concat);
        } else if (type == RST_STREAM) {
          resets.put(stream, ByteBuffer.wrap(payload).getInt());
        } else if (type == GOAWAY) {
          goAway.set(ByteBuffer.wrap(payload, 4, 4).getInt());
        }
      }
    } catch (IOException | Http2Exception e) {
      closed = true;
    }
  }

  private static void literal(ByteArrayOutputStream block, String name, String value) {
    block.write(0x00); // literal header field without indexing, new name
    string(block, name.getBytes(StandardCharsets.ISO_8859_1));
    string(block, value.getBytes(StandardCharsets.ISO_8859_1));
  }

  /* An HPACK string without Huffman coding: its length as a 7-bit prefix integer, then it. */
  private static void string(ByteArrayOutputStream block, byte[] s) {
    int n = s.length;
    if (n < 127) {
      block.write(n);
    } else {
      block.write(127);
      n -= 127;
      while (n >= 128) {
        block.write((n & 127) | 128);
        n >>>= 7;
      }
      block.write(n);
    }
    block.write(s, 0, s.length);
  }

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
    b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8));
    b.put((byte) payload.length).put((byte) type).put((byte) flags).putInt(stream).put(payload);
    return b.array();
  }
}
