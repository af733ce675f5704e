package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.RunningService;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LimitsIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service =
        RunningService.start(
            dir,
            Map.of(
                "limits.body-max", "1KiB",
                "limits.batch-body-max", "8KiB",
                "limits.batch-items-max", "5"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void bodyOverTheLimitIs413WithAJsonError() {
    HttpResponse<String> res =
        service.postJson("/events", key, "{\"x\":\"" + "a".repeat(1100) + "\"}");

    assertThat(res.statusCode()).isEqualTo(413);
    assertThat(RunningService.json(res.body()).path("error").asText())
        .isEqualTo("payload_too_large");
    assertThat(RunningService.json(res.body()).path("message").asText()).contains("1024");
  }

  @Test
  void bodyAtTheLimitIsAccepted() {
    String json = "{\"x\":\"" + "a".repeat(1024 - 8) + "\"}";
    assertThat(json).hasSize(1024);
    assertThat(service.postJson("/events", key, json).statusCode()).isEqualTo(200);
  }

  @Test
  void chunkedBodyOverTheLimitIs413() throws Exception {
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /pixel HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + key
                  + "\r\nTransfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      String chunk = "b".repeat(600);
      for (int i = 0; i < 2; i++) {
        out.write((Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n").getBytes());
      }
      out.write("0\r\n\r\n".getBytes());
      out.flush();
      InputStream in = s.getInputStream();
      String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(head).isEqualTo("HTTP/1.1 413");
    }
  }

  @Test
  void batchOverTheItemLimitIs413() {
    HttpResponse<String> res = service.postJson("/batch", key, "[{},{},{},{},{},{}]");

    assertThat(res.statusCode()).isEqualTo(413);
    assertThat(RunningService.json(res.body()).path("error").asText()).isEqualTo("too_many_items");
  }

  @Test
  void batchAtTheItemLimitIsAccepted() {
    HttpResponse<String> res = service.postJson("/batch", key, "[{},{},{},{},{}]");

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(RunningService.json(res.body()).path("accepted").asInt()).isEqualTo(5);
  }

  @Test
  void batchBodyHasItsOwnLargerLimit() {
    String item = "{\"x\":\"" + "a".repeat(1500) + "\"}";
    HttpResponse<String> ok = service.postJson("/batch", key, "[" + item + "," + item + "]");
    HttpResponse<String> tooBig =
        service.postJson(
            "/batch",
            key,
            "["
                + String.join(
                    ",", java.util.Collections.nCopies(5, item + "," + item).subList(0, 3))
                + "]");

    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(tooBig.statusCode()).isEqualTo(413);
  }

  @Test
  void theServiceStillAnswersAfterRefusals() {
    service.postJson("/events", key, "x".repeat(5000));
    HttpResponse<String> res =
        service.send(
            HttpRequest.newBuilder(service.uri("/events"))
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(res.statusCode()).isEqualTo(200);
  }
}
