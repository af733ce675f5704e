package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.RawHttp2;
import io.trellis.ingress.testing.RunningService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one HTTP/2 connection may hold: streams past the limit are refused even from a client that
 * never acknowledges it, a stream answered before its body ended is reset so it holds nothing, and
 * open streams take their share of the request memory of their address, and a body in one-byte DATA
 * frames is refused. Frames go over a raw socket, as a stranger would send them.
 */
class Http2StreamsIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir static Path dir;
  static RunningService service;
  static String key;
  final List<RawHttp2> open = new ArrayList<>();

  @BeforeAll
  static void start() {
    service =
        RunningService.start(
            dir,
            Map.of(
                "limits.streams-per-connection", "60",
                "limits.body-memory-max", "4MiB",
                "limits.body-memory-per-client", "2MiB",
                "limits.batch-body-max", "1MiB"));
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @AfterEach
  void closeConnections() {
    open.forEach(RawHttp2::close);
    Await.until(() -> requestMemory() == 0, WAIT, () -> "request memory " + requestMemory());
  }

  @Test
  void streamsPastTheLimitAreRefusedBeforeTheClientAcknowledgesIt() {
    RawHttp2 h2 = connect("127.0.0.1");
    String head = "{\"event\":\"h2_limit\",\"pad\":\"";
    String body = head + "p".repeat(100 - head.length() - 2) + "\"}";
    h2.send(posts(1, 90, "/events", "authorization", "Bearer " + key));

    Await.until(() -> h2.resets().size() >= 30, WAIT, () -> "resets " + h2.resets());
    assertThat(h2.resets().keySet()).isEqualTo(streams(61, 90));
    assertThat(Set.copyOf(h2.resets().values())).containsExactly(RawHttp2.REFUSED_STREAM);

    // The sixty streams the server took are served once their bodies come.
    List<byte[]> bodies = new ArrayList<>();
    for (int id : streams(1, 60)) {
      bodies.add(RawHttp2.lastData(id, body));
    }
    h2.send(bodies);
    Await.until(() -> h2.statuses().size() == 60, WAIT, () -> "answers " + h2.statuses());
    assertThat(Set.copyOf(h2.statuses().values())).containsExactly(200);
    Set<String> ids =
        h2.bodies().values().stream()
            .map(b -> RunningService.json(b).path("event_id").asText())
            .collect(Collectors.toSet());
    service.awaitStored(
        es -> es.stream().map(e -> e.path("event_id").asText()).toList().containsAll(ids));
    assertThat(ids).hasSize(60);
  }

  @Test
  void aStreamAnsweredBeforeItsBodyEndedIsResetAndFreesItsPlace() {
    RawHttp2 h2 = connect("127.0.0.5");
    // Five rounds of fifty requests to no endpoint, none ending its body: 250 in all, past the
    // limit of 60 unless each answered stream is closed.
    for (int round = 0; round < 5; round++) {
      int first = 1 + 50 * round;
      h2.send(posts(first, first + 49, "/no-such-endpoint"));
      int answered = first + 49;
      Await.until(
          () -> h2.statuses().size() == answered && h2.resets().size() == answered,
          WAIT,
          () -> "answers " + h2.statuses().size() + ", resets " + h2.resets());
    }
    assertThat(Set.copyOf(h2.statuses().values())).containsExactly(404);
    assertThat(Set.copyOf(h2.resets().values())).containsExactly(RawHttp2.NO_ERROR);
    assertThat(h2.goAway()).isEqualTo(-1);
  }

  @Test
  void aBodyOfOneByteDataFramesIsRefusedAndItsStreamReset() {
    RawHttp2 h2 = connect("127.0.0.6");
    List<byte[]> frames = new ArrayList<>();
    frames.add(RawHttp2.request(1, "POST", "/batch", false, "authorization", "Bearer " + key));
    for (int i = 0; i < BodyReader.FREE_PIECES + 10; i++) {
      frames.add(RawHttp2.data(1, " "));
    }
    h2.send(frames);
    Await.until(
        () -> h2.statuses().containsKey(1) && h2.resets().containsKey(1),
        WAIT,
        () -> "answers " + h2.statuses() + ", resets " + h2.resets());

    assertThat(h2.statuses()).containsEntry(1, 400);
    assertThat(RunningService.json(h2.bodies().get(1)).path("error").asText())
        .isEqualTo("chunks_too_small");
    assertThat(h2.resets()).containsEntry(1, RawHttp2.NO_ERROR);
  }

  @Test
  void openStreamsTakeTheirAddressShareOfRequestMemory() {
    // 16,000 characters of headers: about 40 KiB a stream, so about 50 fit in 2 MiB.
    String pad = "p".repeat(16_000);
    RawHttp2 greedy = connect("127.0.0.2");
    greedy.send(posts(1, 60, "/events", "x-pad", pad));
    RawHttp2 second = connect("127.0.0.2");
    second.send(posts(1, 60, "/events", "x-pad", pad));

    Await.until(
        () -> greedy.statuses().size() + second.statuses().size() >= 60,
        WAIT,
        () -> "answers " + greedy.statuses().size() + " and " + second.statuses().size());
    assertThat(Set.copyOf(greedy.statuses().values())).containsOnly(429);
    assertThat(Set.copyOf(second.statuses().values())).containsOnly(429);
    assertThat(requestMemory()).isBetween(1.5 * 1024 * 1024, 2.0 * 1024 * 1024);

    // Another address has its own share, and the total is the last word.
    RawHttp2 other = connect("127.0.0.3");
    other.send(posts(1, 60, "/events", "x-pad", pad));
    RawHttp2 third = connect("127.0.0.4");
    third.send(posts(1, 60, "/events", "x-pad", pad));
    Await.until(
        () -> third.statuses().values().contains(503), WAIT, () -> "answers " + third.statuses());
    assertThat(requestMemory()).isLessThanOrEqualTo(4.0 * 1024 * 1024);

    // Closing the connections gives it all back: checked after each test.
  }

  private RawHttp2 connect(String source) {
    RawHttp2 h2 = RawHttp2.open(source, service.port());
    open.add(h2);
    return h2;
  }

  /** POSTs on streams first..last (counted from 1), each waiting for a 100-byte body. */
  private static List<byte[]> posts(int first, int last, String path, String... headers) {
    List<byte[]> frames = new ArrayList<>();
    for (int n = first; n <= last; n++) {
      String[] all = new String[headers.length + 2];
      all[0] = "content-length";
      all[1] = "100";
      System.arraycopy(headers, 0, all, 2, headers.length);
      frames.add(RawHttp2.request(2 * n - 1, "POST", path, false, all));
    }
    return frames;
  }

  /** The ids of streams first..last, counted from 1. */
  private static Set<Integer> streams(int first, int last) {
    return IntStream.rangeClosed(first, last)
        .map(n -> 2 * n - 1)
        .boxed()
        .collect(Collectors.toSet());
  }

  private static double requestMemory() {
    return service.meters().get("trellis.http.body.memory.bytes").gauge().value();
  }
}
