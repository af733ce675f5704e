package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.Sockets;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request bodies without a key are buffered (the key may be inside), so what they may hold is
 * bounded: per client address and in total. A key in the headers is checked before any body is.
 */
class BodyMemoryIT {
  private static final int KIB = 1024;

  @TempDir static Path dir;
  static RunningService service;
  static String key;
  final List<Socket> open = new ArrayList<>();

  @BeforeAll
  static void start() {
    service =
        RunningService.start(
            dir,
            Map.of(
                "limits.body-memory-max", "1MiB",
                "limits.body-memory-per-client", "600KiB"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @AfterEach
  void closeSockets() {
    open.forEach(Sockets::close);
    Await.until(() -> held() == 0, Duration.ofSeconds(10), () -> "held " + held());
  }

  @Test
  void anUnknownKeyInTheHeadersIs401BeforeTheBodyIsSent() throws Exception {
    Socket s = connect("127.0.0.1");
    Sockets.write(s, head("/batch", "Authorization: Bearer trk_nope_0000\r\n", 10_000_000));

    String answer = Sockets.readAnswer(s); // no body byte was sent

    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(401);
    assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
        .isEqualTo("unauthorized");
  }

  @Test
  void oneAddressHoldsAtMostItsShareAndThenGets429() throws Exception {
    Socket first = startBody("127.0.0.2", 500 * KIB);
    Await.until(() -> held() >= 500 * KIB);

    Socket second = startBody("127.0.0.2", 200 * KIB);
    String answer = Sockets.readAnswer(second);

    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(429);
    assertThat(answer).contains("Retry-After");
    assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
        .isEqualTo("rate_limited");
    assertThat(first.isClosed()).isFalse();
  }

  @Test
  void allAddressesTogetherHoldAtMostTheTotalAndThenGet503() throws Exception {
    startBody("127.0.0.2", 500 * KIB);
    startBody("127.0.0.3", 300 * KIB);
    Await.until(() -> held() >= 1024 * KIB);

    String answer = Sockets.readAnswer(startBody("127.0.0.4", 100 * KIB));

    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(503);
    assertThat(answer).contains("Retry-After");
    assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
        .isEqualTo("unavailable");
  }

  @Test
  void memoryIsGivenBackWhenTheClientsGoAndKeyedRequestsPass() throws Exception {
    startBody("127.0.0.2", 500 * KIB);
    startBody("127.0.0.3", 500 * KIB);
    Await.until(() -> held() >= 1024 * KIB);
    open.forEach(Sockets::close);
    Await.until(() -> held() == 0);

    String item = "{\"event\":\"e\",\"pad\":\"" + "p".repeat(1000) + "\"}";
    String batch = "[" + String.join(",", java.util.Collections.nCopies(300, item)) + "]";
    assertThat(service.postJson("/batch", key, batch).statusCode()).isEqualTo(200);
  }

  /** A keyless /batch body of 2 MB of which only {@code bytes} are sent. */
  private Socket startBody(String source, int bytes) throws Exception {
    Socket s = connect(source);
    Sockets.write(s, head("/batch", "", 2_000_000) + "[" + " ".repeat(bytes - 1));
    return s;
  }

  private Socket connect(String source) {
    Socket s = Sockets.connect(source, service.port());
    open.add(s);
    return s;
  }

  private static String head(String path, String extra, long length) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + extra
        + "Content-Length: "
        + length
        + "\r\n\r\n";
  }

  private static long held() {
    return (long) service.meters().find("trellis.http.body.memory.bytes").gauge().value();
  }
}
