package io.trellis.ingress.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A Server-Sent Events stream read over a plain socket: the status line, the headers, and every
 * frame (event name and data) as it arrives. {@link #open(int, String, int)} with a small receive
 * buffer and {@code read=false} makes a viewer that connects and then never reads, until {@link
 * #startReading()}.
 */
public final class SseStream implements AutoCloseable {
  /** One frame of the stream. */
  public record Frame(String event, String data) {}

  private final Socket socket;
  private final List<Frame> frames = new CopyOnWriteArrayList<>();
  private volatile int status = -1;
  private volatile String head = "";
  private volatile boolean ended;
  private Thread reader;

  private SseStream(Socket socket) {
    this.socket = socket;
  }

  /** Connects and sends {@code GET path}; starts reading at once. */
  public static SseStream open(int port, String path) {
    SseStream s = open(port, path, 0);
    s.startReading();
    return s;
  }

  /** Connects with a receive buffer of {@code receiveBuffer} bytes (0: default); not reading. */
  public static SseStream open(int port, String path, int receiveBuffer) {
    try {
      Socket socket = new Socket();
      if (receiveBuffer > 0) {
        socket.setReceiveBufferSize(receiveBuffer);
      }
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET "
                  + path
                  + " HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port
                  + "\r\nAccept: text/event-stream\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return new SseStream(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts reading the answer in the background. */
  public synchronized void startReading() {
    if (reader != null) {
      return;
    }
    reader = new Thread(this::read, "sse-reader");
    reader.setDaemon(true);
    reader.start();
  }

  private void read() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8), 1 << 16)) {
      String line = in.readLine();
      if (line == null) {
        return;
      }
      StringBuilder h = new StringBuilder(line).append('\n');
      int code = Integer.parseInt(line.substring(9, 12));
      boolean chunked = false;
      while ((line = in.readLine()) != null && !line.isEmpty()) {
        h.append(line).append('\n');
        chunked |= line.toLowerCase().startsWith("transfer-encoding: chunked");
      }
      head = h.toString();
      status = code;
      if (!chunked) {
        StringBuilder body = new StringBuilder();
        char[] buf = new char[4096];
        int n;
        while ((n = in.read(buf)) > 0) {
          body.append(buf, 0, n);
        }
        frames.add(new Frame("body", body.toString()));
        return;
      }
      // Chunked: the chunk-size lines are hex numbers; frames never contain such lines alone
      // at a frame boundary, so they are told apart from SSE lines by position.
      String event = "message";
      StringBuilder data = new StringBuilder();
      StringBuilder pending = new StringBuilder();
      int c;
      long left = -1;
      while (true) {
        if (left <= 0) {
          String size = in.readLine();
          if (size == null) {
            return;
          }
          if (size.isEmpty()) {
            size = in.readLine();
            if (size == null) {
              return;
            }
          }
          left = Long.parseLong(size.trim(), 16);
          if (left == 0) {
            return;
          }
        }
        c = in.read();
        if (c < 0) {
          return;
        }
        left -= String.valueOf((char) c).getBytes(StandardCharsets.UTF_8).length;
        if (c != '\n') {
          pending.append((char) c);
          continue;
        }
        String l = pending.toString();
        pending.setLength(0);
        if (l.isEmpty()) {
          if (data.length() > 0) {
            frames.add(new Frame(event, data.toString()));
          }
          event = "message";
          data.setLength(0);
        } else if (l.startsWith("event: ")) {
          event = l.substring(7);
        } else if (l.startsWith("data: ")) {
          if (data.length() > 0) {
            data.append('\n');
          }
          data.append(l.substring(6));
        }
      }
    } catch (IOException e) {
      // closed
    } finally {
      ended = true;
    }
  }

  public int status() {
    return status;
  }

  public String head() {
    return head;
  }

  public boolean ended() {
    return ended;
  }

  /** Every frame so far. */
  public List<Frame> frames() {
    return new ArrayList<>(frames);
  }

  /** The data of every frame of this event name so far. */
  public List<String> data(String event) {
    return frames.stream().filter(f -> f.event().equals(event)).map(Frame::data).toList();
  }

  /** Waits until the frames satisfy the condition; returns them. */
  public List<Frame> await(Predicate<List<Frame>> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<Frame> now = frames();
      if (condition.test(now)) {
        return now;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "the stream never satisfied the condition; status " + status + ", frames " + now);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Waits for the status line and headers. */
  public int awaitStatus(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (status < 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no answer");
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    return status;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing
    }
  }
}
