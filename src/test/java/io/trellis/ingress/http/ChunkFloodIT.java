package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.Sockets;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies in tiny pieces: each chunk costs the event loop about a microsecond whatever its size, so
 * a client streaming one-byte chunks could keep a loop busy for as long as it sent, before its
 * request was refused and while its refused body was read and dropped.
 */
class ChunkFloodIT {
  private static final int LINGER_MAX = 256 * 1024;

  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    // Far longer than any wait below: a connection closed here was closed by the bytes bound.
    service = RunningService.start(dir, Map.of("limits.linger-max", LINGER_MAX + "B"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void aBodyOfOneByteChunksIsRefusedOnceItsPiecesAverageUnderTheLeast() throws Exception {
    try (Socket s = Sockets.connect("127.0.0.1", service.port())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write(head("/events", key).getBytes(StandardCharsets.ISO_8859_1));
      out.write(
          "1\r\n \r\n".repeat(BodyReader.FREE_PIECES + 10).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String answer = Sockets.readAnswer(s);

      assertThat(RawHttp.status(answer)).as(answer).isEqualTo(400);
      assertThat(answer).containsIgnoringCase("connection: close");
      assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
          .isEqualTo("chunks_too_small");
    }
  }

  @Test
  void aBatchStreamedItemByItemWithOneByteSeparatorsIsStored() throws Exception {
    String run = UUID.randomUUID().toString();
    int items = 200; // 401 pieces: far past the free ones, averaging about 36 bytes
    StringBuilder chunks = new StringBuilder(chunk("["));
    for (int i = 0; i < items; i++) {
      chunks.append(chunk((i == 0 ? "" : ",")));
      chunks.append(chunk("{\"event\":\"streamed\",\"run\":\"" + run + "\",\"n\":" + i + "}"));
    }
    chunks.append(chunk("]")).append("0\r\n\r\n");
    try (Socket s = Sockets.connect("127.0.0.1", service.port())) {
      s.setSoTimeout(20_000);
      Sockets.write(s, head("/batch", key) + chunks);
      String answer = Sockets.readAnswer(s);

      assertThat(RawHttp.status(answer)).as(answer).isEqualTo(200);
    }
    assertThat(
            service.awaitStored(
                events ->
                    events.stream().filter(e -> e.path("body").asText().contains(run)).count()
                        == items))
        .isNotEmpty();
  }

  @Test
  void whatARefusedClientGoesOnSendingIsDroppedUnparsedAndCountedByItsBytes() throws Exception {
    try (Socket s = Sockets.connect("127.0.0.1", service.port())) {
      s.setSoTimeout(15_000);
      Sockets.write(s, head("/events", "trk_not_a_key") + "1\r\n \r\n");
      assertThat(RawHttp.status(Sockets.readAnswer(s))).isEqualTo(401);

      // One-byte chunks: twice the linger bound on the wire, a third of it in chunk data. Counted
      // by the data, as the chunks' parser would, the connection would stay open for 30 s.
      OutputStream out = s.getOutputStream();
      byte[] chunks = "1\r\n \r\n".repeat(16 * 1024).getBytes(StandardCharsets.ISO_8859_1);
      long written = 0;
      try {
        while (written < 2L * LINGER_MAX) {
          out.write(chunks);
          written += chunks.length;
        }
      } catch (IOException closed) {
        // the server closed it already
      }
      // Returns once the server has closed it (end of stream or a reset), else fails at 15 s.
      assertThat(RawHttp.readUntilClosed(s.getInputStream())).isEmpty();
    }
  }

  private static String chunk(String data) {
    int n = data.getBytes(StandardCharsets.UTF_8).length;
    return n == 0 ? "" : Integer.toHexString(n) + "\r\n" + data + "\r\n";
  }

  private static String head(String path, String key) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
        + key
        + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  }
}
