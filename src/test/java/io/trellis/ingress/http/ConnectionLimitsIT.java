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
 * Idle connections hold file descriptors: one address may hold a share, all together a total, and a
 * connection past either is answered and closed at once. A trusted proxy, carrying many clients,
 * has no share of its own.
 */
class ConnectionLimitsIT {
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
                "limits.connections-max",
                "12",
                "limits.connections-per-client",
                "4",
                "capture.trusted-proxies",
                "127.0.0.9"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @AfterEach
  void closeSockets() {
    open.forEach(Sockets::close);
    Await.until(() -> openConnections() == 0, Duration.ofSeconds(10), () -> "still open");
  }

  @Test
  void anAddressPastItsShareIsAnswered429AndOthersAreServed() throws Exception {
    idle("127.0.0.2", 4);

    String answer = Sockets.readAnswer(connect("127.0.0.2"));

    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(429);
    assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
        .isEqualTo("rate_limited");
    assertThat(RawHttp.status(track("127.0.0.1"))).isEqualTo(200);
  }

  @Test
  void theTotalIsAnswered503AndFreedWhenConnectionsClose() throws Exception {
    idle("127.0.0.2", 4);
    idle("127.0.0.3", 4);
    idle("127.0.0.4", 4);

    String answer = Sockets.readAnswer(connect("127.0.0.5"));
    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(503);
    assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
        .isEqualTo("unavailable");

    open.forEach(Sockets::close);
    Await.until(() -> openConnections() == 0);
    assertThat(RawHttp.status(track("127.0.0.5"))).isEqualTo(200);
  }

  @Test
  void aTrustedProxyHoldsMoreThanAShareAndStillCountsTowardsTheTotal() throws Exception {
    idle("127.0.0.9", 8);
    assertThat(RawHttp.status(track("127.0.0.9"))).isEqualTo(200);
    Await.until(() -> openConnections() == 8);

    idle("127.0.0.9", 4);
    String answer = Sockets.readAnswer(connect("127.0.0.9"));
    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(503);

    open.forEach(Sockets::close);
    Await.until(() -> openConnections() == 0);
    idle("127.0.0.2", 4);
    assertThat(RawHttp.status(Sockets.readAnswer(connect("127.0.0.2")))).isEqualTo(429);
  }

  /** Opens connections that send half a request line, and waits until the server holds them. */
  private void idle(String source, int n) throws Exception {
    double before = openConnections();
    for (int i = 0; i < n; i++) {
      Sockets.write(connect(source), "GET /tra");
    }
    Await.until(() -> openConnections() >= before + n);
  }

  private String track(String source) throws Exception {
    try (Socket s = Sockets.connect(source, service.port())) {
      Sockets.write(
          s,
          "GET /track?event=legit&api_key="
              + key
              + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      return Sockets.readAnswer(s);
    }
  }

  private Socket connect(String source) {
    Socket s = Sockets.connect(source, service.port());
    open.add(s);
    return s;
  }

  private static double openConnections() {
    return service.meters().find("trellis.http.connections.open").gauge().value();
  }
}
