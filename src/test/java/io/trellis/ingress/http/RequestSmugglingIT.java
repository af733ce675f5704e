package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RunningService;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request framed by both Content-Length and Transfer-Encoding is the classic desync: a proxy in
 * front that trusts the other header sees a second request hidden in the body. RFC 9112 §6.3: the
 * server answers and closes the connection. So does a Transfer-Encoding other than chunked alone,
 * which a proxy may read as chunked while this server would read no body and the chunks as the next
 * request.
 */
class RequestSmugglingIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void contentLengthWithChunkedIs400AndTheConnectionIsClosed() throws IOException {
    String answer = sendWithHiddenRequest("chunked");

    assertThat(RawHttp.status(answer)).isEqualTo(400);
    assertThat(answer).containsIgnoringCase("connection: close");
    assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
        .isEqualTo("ambiguous_length");
    assertThat(responses(answer)).as("answers on the connection").isEqualTo(1);
  }

  @Test
  void contentLengthWithAnyTransferEncodingIs400() throws IOException {
    String answer = sendWithHiddenRequest("gzip, chunked");

    assertThat(RawHttp.status(answer)).isEqualTo(400);
    assertThat(responses(answer)).isEqualTo(1);
  }

  @Test
  void theHiddenRequestIsNeverCaptured() throws IOException {
    sendWithHiddenRequest("chunked");
    String marker = service.postJson("/events", key, "{\"event\":\"after\"}").body();
    service.awaitEvent(RunningService.json(marker).path("event_id").asText());

    assertThat(service.storedEvents())
        .noneMatch(e -> e.path("event_type").asText().equals("smuggled"))
        .noneMatch(e -> e.path("event_type").asText().equals("framed"));
  }

  @Test
  void aTransferEncodingOtherThanChunkedAloneIsRefusedAndTheConnectionIsClosed()
      throws IOException {
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("Transfer-Encoding: xchunked", "400 ambiguous_length");
    cases.put("Transfer-Encoding: identity", "400 ambiguous_length");
    cases.put("Transfer-Encoding: chunked, identity", "400 ambiguous_length");
    cases.put("Transfer-Encoding: chunked, chunked", "400 ambiguous_length");
    cases.put("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "400 ambiguous_length");
    cases.put("Transfer-Encoding: gzip, chunked", "501 unsupported_transfer_coding");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      String answer = sendChunksWithHiddenRequest(c.getKey());
      String error = RunningService.json(RawHttp.body(answer)).path("error").asText();
      assertThat(RawHttp.status(answer) + " " + error).as(c.getKey()).isEqualTo(c.getValue());
      assertThat(answer).as(c.getKey()).containsIgnoringCase("connection: close");
      assertThat(responses(answer)).as(c.getKey()).isEqualTo(1);
    }
    String marker = service.postJson("/events", key, "{\"event\":\"after-codings\"}").body();
    service.awaitEvent(RunningService.json(marker).path("event_id").asText());
    assertThat(service.storedEvents())
        .noneMatch(e -> e.path("event_type").asText().equals("smuggled"))
        .noneMatch(e -> e.path("event_type").asText().equals("framed"));
  }

  @Test
  void transferEncodingInHttp10Is400AndTheConnectionIsClosed() throws IOException {
    // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding, so its framing is faulty.
    String event = "{\"event\":\"framed\"}";
    String answer =
        exchange(
            "POST /events HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer "
                + key
                + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(event.length())
                + "\r\n"
                + event
                + "\r\n0\r\n\r\n");

    assertThat(answer).startsWith("HTTP/1.0 400").containsIgnoringCase("connection: close");
    assertThat(RunningService.json(RawHttp.body(answer)).path("error").asText())
        .isEqualTo("ambiguous_length");
    assertThat(responses(answer)).isEqualTo(1);
  }

  @Test
  void twoHostHeadersAre400AndTheConnectionIsClosed() throws IOException {
    String event = "{\"event\":\"two-hosts\"}";
    String answer =
        exchange(
            "POST /events HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nAuthorization: Bearer "
                + key
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + event.length()
                + "\r\n\r\n"
                + event);
    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(400);
    assertThat(RunningService.json(RawHttp.body(answer)).path("message").asText())
        .contains("more than one Host");
    assertThat(answer).containsIgnoringCase("connection: close");
    String marker = service.postJson("/events", key, "{\"event\":\"after-hosts\"}").body();
    service.awaitEvent(RunningService.json(marker).path("event_id").asText());
    assertThat(service.storedEvents())
        .noneMatch(e -> e.path("event_type").asText().equals("two-hosts"));
  }

  @Test
  void anHttp11RequestWithoutHostIs400AndHttp10NeedsNone() throws IOException {
    String event = "{\"event\":\"no-host\"}";
    String request =
        " /events HTTP/1.1\r\nAuthorization: Bearer "
            + key
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + event.length()
            + "\r\n\r\n"
            + event;
    String answer = exchange("POST" + request);
    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(400);
    assertThat(RunningService.json(RawHttp.body(answer)).path("message").asText())
        .contains("needs a Host header");

    String http10 = exchange("POST" + request.replace("HTTP/1.1", "HTTP/1.0"));
    assertThat(RawHttp.status(http10)).as(http10).isEqualTo(200);
    String id = RunningService.json(RawHttp.body(http10)).path("event_id").asText();
    assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("no-host");
    assertThat(service.storedEvents())
        .filteredOn(e -> e.path("event_type").asText().equals("no-host"))
        .hasSize(1);
  }

  @Test
  void chunkedInAnyCaseIsReadAsChunked() throws IOException {
    String event = "{\"event\":\"chunked-case\"}";
    String request =
        "POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + key
            + "\r\nContent-Type: application/json\r\nTransfer-Encoding: Chunked\r\n"
            + "Connection: close\r\n\r\n"
            + Integer.toHexString(event.length())
            + "\r\n"
            + event
            + "\r\n0\r\n\r\n";
    String answer = exchange(request);
    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(200);
    String id = RunningService.json(RawHttp.body(answer)).path("event_id").asText();
    assertThat(service.awaitEvent(id).path("event_type").asText()).isEqualTo("chunked-case");
  }

  /**
   * One connection: a POST with the given Transfer-Encoding lines and no Content-Length, whose body
   * is one event in chunks, then a complete GET, as a front proxy reading the body as chunked would
   * forward them. Returns everything the server sent before it closed (at most 5 s).
   */
  private static String sendChunksWithHiddenRequest(String transferEncodingLines)
      throws IOException {
    String event = "{\"event\":\"framed\"}";
    String chunked = Integer.toHexString(event.length()) + "\r\n" + event + "\r\n0\r\n\r\n";
    String hidden = "GET /track?event=smuggled&api_key=" + key + " HTTP/1.1\r\nHost: x\r\n\r\n";
    return exchange(
        "POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + key
            + "\r\nContent-Type: application/json\r\n"
            + transferEncodingLines
            + "\r\n\r\n"
            + chunked
            + hidden);
  }

  private static String exchange(String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return RawHttp.readUntilClosed(s.getInputStream());
    }
  }

  /**
   * One connection: a POST whose chunked body is one event, with a Content-Length that covers the
   * chunked body and a complete GET after it, as a front proxy framing by length would forward it.
   * Returns everything the server sent before it closed (at most 5 s).
   */
  private static String sendWithHiddenRequest(String transferEncoding) throws IOException {
    String event = "{\"event\":\"framed\"}";
    String chunked = Integer.toHexString(event.length()) + "\r\n" + event + "\r\n0\r\n\r\n";
    String hidden = "GET /track?event=smuggled&api_key=" + key + " HTTP/1.1\r\nHost: x\r\n\r\n";
    String request =
        "POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + key
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + (chunked.length() + hidden.length())
            + "\r\nTransfer-Encoding: "
            + transferEncoding
            + "\r\n\r\n"
            + chunked
            + hidden;
    return exchange(request);
  }

  private static int responses(String text) {
    Matcher m = Pattern.compile("HTTP/1\\.[01] \\d{3}").matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }
}
