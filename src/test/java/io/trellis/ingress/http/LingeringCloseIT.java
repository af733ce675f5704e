package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.Sockets;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that write a whole body before reading (Python's http.client and requests, many SDKs)
 * must read the refusal of an oversized body, not a reset: SDKs retry resets forever.
 */
class LingeringCloseIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir, Map.of("limits.linger-time", "2s"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void aClientWritingAThirtyMegabyteBatchBeforeReadingGetsThe413() throws Exception {
    byte[] body = new byte[30_000_000];
    Arrays.fill(body, (byte) ' ');
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write(head("/batch", body.length).getBytes(StandardCharsets.ISO_8859_1));
      out.write(body); // the whole body, as http.client sends it, before reading anything
      out.flush();
      String answer = RawHttp.readUntilClosed(s.getInputStream());

      assertThat(RawHttp.status(answer)).as(answer).isEqualTo(413);
      assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
          .isEqualTo("payload_too_large");
    }
  }

  @Test
  void aClientThatNeverFinishesItsRefusedBodyIsClosedAfterTheLingerTime() throws Exception {
    try (Socket s = Sockets.connect("127.0.0.1", service.port())) {
      Sockets.write(s, head("/events", 50_000_000));
      long start = System.nanoTime();
      String answer = RawHttp.readUntilClosed(s.getInputStream()); // returns once the server closes

      assertThat(RawHttp.status(answer)).isEqualTo(413);
      assertThat((System.nanoTime() - start) / 1_000_000).isBetween(1_500L, 9_000L);
    }
  }

  private static String head(String path, long length) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
        + key
        + "\r\nContent-Type: application/json\r\nContent-Length: "
        + length
        + "\r\n\r\n";
  }
}
