package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.Sockets;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each deadline of a connection, over real sockets with a 2 s request timeout: the server's idle
 * timeout ends a connection that trickles its headers, the body deadline answers a body that
 * trickles, and a keep-alive connection gives back what each of its requests held.
 */
class ConnectionDeadlinesIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir, Map.of("limits.request-timeout", "2s"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void headersTrickledAByteEvery250MsAreCutByTheIdleTimeout() throws Exception {
    // 200 header bytes at 4 a second would take 50 s to arrive.
    String head = "POST /events HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s".repeat(160);
    long started = System.nanoTime();
    String outcome = trickle(head.getBytes(StandardCharsets.US_ASCII), null);
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
    assertThat(outcome).isEqualTo("closed");
    assertThat(seconds).as("seconds until closed").isLessThan(15);
  }

  @Test
  void aBodyTrickledAByteEvery250MsIsAnswered408ByItsDeadline() throws Exception {
    String marker = "trickled-" + UUID.randomUUID();
    byte[] body = ("{\"event\":\"" + marker + "\"}").getBytes(StandardCharsets.US_ASCII);
    String head =
        "POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + key
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    long started = System.nanoTime();
    String outcome = trickle(body, head);
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
    assertThat(outcome).startsWith("answered 408");
    assertThat(outcome).contains("\"error\":\"request_timeout\"");
    assertThat(seconds).as("seconds until answered").isLessThan(15);
    assertThat(service.storedEvents()).noneMatch(e -> e.path("body").asText().contains(marker));
  }

  @Test
  void aKeepAliveConnectionGivesBackTheBodyMemoryOfEachOfItsRequests() throws Exception {
    try (Socket s = Sockets.connect("127.0.0.1", service.port())) {
      for (int i = 0; i < 5; i++) {
        String body = "{\"event\":\"kept-alive-" + i + "\",\"pad\":\"" + "p".repeat(2000) + "\"}";
        Sockets.write(
            s,
            "POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + key
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length()
                + "\r\n\r\n"
                + body);
        String answer = Sockets.readAnswer(s);
        assertThat(RawHttp.status(answer)).as(answer).isEqualTo(200);
      }
      // Still open: each answer is over, and what its request held is given back.
      Await.until(
          () -> bodyMemory() == 0,
          Duration.ofSeconds(10),
          () -> bodyMemory() + " bytes of request bodies still held");
    }
  }

  private static double bodyMemory() {
    return service.meters().get("trellis.http.body.memory.bytes").gauge().value();
  }

  /**
   * Writes {@code head} at once (if any), then {@code bytes} one every 250 ms, watching the socket
   * between bytes: "closed" when the server closes it, "answered ..." with the answer when it
   * answers, "sent everything" when neither happened.
   */
  private static String trickle(byte[] bytes, String head) throws Exception {
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      if (head != null) {
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      for (byte b : bytes) {
        try {
          out.write(b);
          out.flush();
        } catch (IOException e) {
          return "closed";
        }
        Thread.sleep(250); // the client's pace, not a wait for an outcome
        s.setSoTimeout(1);
        try {
          int first = in.read();
          if (first < 0) {
            return "closed";
          }
          s.setSoTimeout(5_000);
          return "answered " + RawHttp.readUntilClosed(prepend(first, in)).substring(9);
        } catch (SocketTimeoutException e) {
          // nothing yet
        } catch (IOException e) {
          return "closed";
        }
      }
      return "sent everything";
    }
  }

  private static InputStream prepend(int first, InputStream rest) {
    return new java.io.SequenceInputStream(
        new java.io.ByteArrayInputStream(new byte[] {(byte) first}), rest);
  }
}
