package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.AttackedProcess;
import io.trellis.ingress.testing.Sockets;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections that each send most of a large header and never finish it hold their bytes in direct
 * memory, the network buffers' pool. The service process runs with a 128 MiB heap (and so 128 MiB
 * of direct memory) and an open-file limit of 8192: the files would allow over 7,000 connections,
 * and 3,000 such connections would hold 180 MB. The connection limit derived from the direct memory
 * must keep the service answering, during the attack and after it.
 */
class DirectMemoryAttackIT {
  @TempDir static Path dir;
  static AttackedProcess service;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    Path data = dir.resolve("data");
    key = LocalKeyStore.open(data).create("acme", "attack test").key();
    service = AttackedProcess.start(data, dir.resolve("service.log"), "128m", 8192, List.of());
  }

  @AfterAll
  static void stop() throws Exception {
    if (service != null) {
      service.close();
    }
  }

  @Test
  void connectionsHoldingUnfinishedHeadersLeaveTheServiceAnswering() throws Exception {
    // 64 MiB, half the direct memory, over twice the largest request head (80 KiB).
    assertThat(service.log()).contains("Capture port limits: 409 connections (51 per client");
    byte[] head =
        ("POST /events HTTP/1.1\r\nHost: x\r\nX-Pad: " + "p".repeat(60_000))
            .getBytes(StandardCharsets.US_ASCII);
    List<Socket> held = new ArrayList<>();
    try {
      for (String source : List.of("127.0.0.20", "127.0.0.21", "127.0.0.22")) {
        for (int i = 0; i < 1000; i++) {
          Socket s = Sockets.connect(source, service.port());
          held.add(s);
          try {
            s.getOutputStream().write(head);
          } catch (IOException e) {
            // refused at accept and closed: the point
          }
        }
      }
      assertThat(send()).as("answered during the attack").isEqualTo(200);
    } finally {
      held.forEach(Sockets::close);
    }
    assertThat(send()).as("answered after it").isEqualTo(200);
    assertThat(service.isAlive()).isTrue();
    assertThat(service.log()).doesNotContain("direct buffer memory");
  }

  private static int send() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + "/events"))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"event\":\"through\"}"))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
