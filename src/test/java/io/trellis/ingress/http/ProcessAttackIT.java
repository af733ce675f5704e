package io.trellis.ingress.http;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.testing.AttackedProcess;
import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.RawHttp;
import io.trellis.ingress.testing.RawHttp2;
import io.trellis.ingress.testing.Sockets;
import io.trellis.ingress.testing.StoredFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks the real service process, started with a 256 MiB heap and an open-file limit of 1024,
 * over real sockets, as a stranger without a key would, while a legitimate client keeps sending
 * events. Afterwards the process must be up with its open files and heap back to normal, and every
 * event it acknowledged during the attacks must be stored.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProcessAttackIT {
  private static final int OPEN_FILES = 1024;
  private static final Duration LOAD_CHECK = Duration.ofSeconds(20);

  @TempDir static Path dir;
  static AttackedProcess service;
  static String key;
  static long filesAtStart;
  static final Set<String> acked = ConcurrentHashMap.newKeySet();
  static final ConcurrentMap<String, AtomicInteger> loadAnswers = new ConcurrentHashMap<>();
  static final AtomicBoolean stopLoad = new AtomicBoolean();
  static Thread load;

  @BeforeAll
  static void start() throws Exception {
    Path data = dir.resolve("data");
    key = LocalKeyStore.open(data).create("acme", "attack test").key();
    service =
        AttackedProcess.start(
            data,
            dir.resolve("service.log"),
            "256m",
            OPEN_FILES,
            List.of(
                // Small segments: the spool must keep opening files while connections pile up.
                "spool.segment-size=1MiB",
                "spool.max-record-size=512KiB",
                "limits.body-max=256KiB"));
    load = new Thread(ProcessAttackIT::legitimateClient, "legitimate-client");
    load.start();
    Await.until(() -> acked.size() >= 50, LOAD_CHECK, () -> "acked " + acked.size());
    filesAtStart = service.openFiles();
  }

  @AfterAll
  static void stop() throws Exception {
    stopLoad.set(true);
    if (load != null) {
      load.join();
    }
    if (service != null) {
      service.close();
    }
  }

  @Test
  @Order(1)
  void twentyFourUnauthenticatedTwentyMegabyteBodiesDoNotExhaustTheHeap() throws Exception {
    ConcurrentMap<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    List<Thread> attackers = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      String source = "127.0.0." + (10 + i);
      Thread t = new Thread(() -> count(outcomes, bodyWithoutItsLastByte(source)), "heap-attack");
      t.start();
      attackers.add(t);
    }
    for (Thread t : attackers) {
      t.join();
    }

    assertThat(service.isAlive()).as("the service survived").isTrue();
    assertThat(outcomes.keySet()).as("answers: %s", outcomes).contains("503");
    assertLegitimateClientServed();
  }

  @Test
  @Order(2)
  void thousandsOfHalfRequestLinesFromTwoAddressesLeaveFilesForEverythingElse() throws Exception {
    Set<String> segmentsBefore = segments();
    List<Socket> idle = new ArrayList<>();
    int refused = 0;
    long started = System.nanoTime();
    try {
      for (String source : List.of("127.0.0.2", "127.0.0.3")) {
        for (int i = 0; i < 1500; i++) {
          try {
            Socket s = Sockets.connect(source, service.port());
            idle.add(s);
            s.getOutputStream().write("GET /track?ev".getBytes());
          } catch (IOException e) {
            refused++;
          }
        }
      }
      // The admin port answers, the spool keeps rolling segments, legitimate requests pass.
      assertThat(service.admin("/readyz").statusCode()).isEqualTo(200);
      Await.until(
          () -> !segmentsBefore.containsAll(segments()),
          LOAD_CHECK,
          () -> "no new segment: " + segments());
      assertLegitimateClientServed();
      // Each address holds its share of connections and the rest are refused as the acceptor
      // reaches them, which on a busy machine may come after the last connect left the kernel's
      // queue. A share is held again after each request timeout (30 s) the connecting took.
      Matcher limit = Pattern.compile("\\((\\d+) per client address\\)").matcher(service.log());
      assertThat(limit.find()).as("the per-address limit in the log").isTrue();
      long timeouts = Duration.ofNanos(System.nanoTime() - started).toSeconds() / 30;
      long held = 2 * Long.parseLong(limit.group(1)) * (1 + timeouts);
      long expected = 3000 - held;
      assertThat(expected).as("a test that can fail: %d held", held).isGreaterThan(1000);
      Await.until(
          () -> refusedConnections() >= expected,
          LOAD_CHECK,
          () -> "connections refused at accept: " + refusedConnections() + " of " + expected);
      System.out.printf(
          "fd attack: %d sockets connected, %d failed to connect, %d open files in the service%n",
          idle.size(), refused, service.openFiles());
    } finally {
      idle.forEach(Sockets::close);
    }
    assertThat(service.openFiles()).isLessThan(OPEN_FILES);
  }

  @Test
  @Order(3)
  void aSmuggledRequestIsRefusedAndItsConnectionClosed() throws Exception {
    String event = "{\"event\":\"framed\"}";
    String chunked = Integer.toHexString(event.length()) + "\r\n" + event + "\r\n0\r\n\r\n";
    String hidden = "GET /track?event=smuggled&api_key=" + key + " HTTP/1.1\r\nHost: x\r\n\r\n";
    String request =
        "POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + key
            + "\r\nContent-Length: "
            + (chunked.length() + hidden.length())
            + "\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked
            + hidden;

    String answer = RawHttp.exchange(service.port(), request);

    assertThat(RawHttp.status(answer)).isEqualTo(400);
    assertThat(answer).contains("ambiguous_length").doesNotContain("HTTP/1.1 200");
  }

  @Test
  @Order(4)
  void aClientWritingAThirtyMegabyteBodyBeforeReadingGetsThe413() throws Exception {
    byte[] body = new byte[30_000_000];
    try (Socket s = new Socket("127.0.0.1", service.port())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /batch HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Length: "
                  + body.length
                  + "\r\n\r\n")
              .getBytes());
      out.write(body);
      out.flush();
      assertThat(RawHttp.status(Sockets.readAnswer(s))).isEqualTo(413);
    }
  }

  @Test
  @Order(5)
  void http2StreamsWaitingForTheirBodiesDoNotExhaustTheHeap() throws Exception {
    // Each stream: a request without a key (it may come in the body), whose body never comes,
    // with 30,000 characters of headers. 9,000 of them would hold over 600 MiB.
    String pad = "p".repeat(30_000);
    List<RawHttp2> conns = new ArrayList<>();
    Map<Integer, AtomicInteger> answers = new ConcurrentHashMap<>();
    try {
      for (String source : List.of("127.0.0.50", "127.0.0.51", "127.0.0.52")) {
        for (int c = 0; c < 30 && service.isAlive(); c++) {
          RawHttp2 h2 = RawHttp2.open(source, service.port());
          conns.add(h2);
          List<byte[]> streams = new ArrayList<>();
          for (int i = 0; i < 100; i++) {
            streams.add(
                RawHttp2.request(
                    1 + 2 * i, "POST", "/events", false, "content-length", "100", "x-pad", pad));
          }
          try {
            h2.send(streams);
          } catch (java.io.UncheckedIOException e) {
            break; // the connection is gone: checked below
          }
        }
      }
      Await.until(
          () -> !service.isAlive() || conns.stream().mapToInt(h -> h.statuses().size()).sum() > 0,
          Duration.ofSeconds(30),
          () -> "no stream answered");
      Thread.sleep(2_000); // let the streams that were granted be read and held
      assertThat(service.isAlive()).as("the service survived").isTrue();
      for (RawHttp2 h2 : conns) {
        h2.statuses().values().forEach(s -> count(answers, s));
      }
      System.out.printf(
          "HTTP/2 attack: %d connections, answers by status %s, %.1f MiB of request memory held%n",
          conns.size(), answers, bodyMemory() / 1024 / 1024);
      assertThat(answers.keySet()).as("answers %s", answers).contains(429, 503);
      assertLegitimateClientServed();
    } finally {
      conns.forEach(RawHttp2::close);
    }
  }

  @Test
  @Order(6)
  void pipelinedRequestsWhoseAnswersAreNeverReadDoNotExhaustTheHeap() throws Exception {
    // Each connection writes small requests ahead as fast as the socket takes them and never
    // reads: 540 connections held 1.3 MiB of decoded requests each, and the heap ran out in 5 s.
    byte[] ahead = "GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n".repeat(200).getBytes(US_ASCII);
    List<SocketChannel> conns = new ArrayList<>();
    long sent = 0;
    try {
      for (int a = 0; a < 6; a++) {
        for (int c = 0; c < 90; c++) {
          SocketChannel ch = SocketChannel.open();
          ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
          ch.bind(new InetSocketAddress("127.0.0." + (60 + a), 0));
          ch.connect(new InetSocketAddress("127.0.0.1", service.port()));
          ch.configureBlocking(false);
          conns.add(ch);
        }
      }
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < until && service.isAlive()) {
        for (SocketChannel ch : conns) {
          try {
            sent += ch.write(ByteBuffer.wrap(ahead));
          } catch (IOException e) {
            // closed by the service: counted below by the answers that still come
          }
        }
      }
      assertThat(service.isAlive()).as("the service survived").isTrue();
      double heap = service.heapUsedAfterGc();
      System.out.printf(
          "pipelining attack: %d connections, %.1f MiB of requests written ahead, %.1f MiB heap"
              + " after GC during it%n",
          conns.size(), sent / 1048576.0, heap / 1024 / 1024);
      assertThat(sent).as("bytes written ahead").isGreaterThan(50L << 20);
      assertThat(heap).as("heap in use after a GC, during the attack").isLessThan(96.0 * 1048576);
      assertLegitimateClientServed();
    } finally {
      for (SocketChannel ch : conns) {
        ch.close();
      }
    }
  }

  @Test
  @Order(7)
  void afterTheAttacksTheServiceIsWholeAndLostNothing() throws Exception {
    stopLoad.set(true);
    load.join();

    Await.until(
        () -> bodyMemory() == 0, Duration.ofSeconds(10), () -> "body memory " + bodyMemory());
    Await.until(
        () -> openFiles() <= filesAtStart + 20,
        Duration.ofSeconds(20),
        () -> "open files " + openFiles() + ", at start " + filesAtStart);
    double heap = service.heapUsedAfterGc();
    assertThat(heap).as("heap in use after a GC").isLessThan(128.0 * 1024 * 1024);
    assertThat(service.log()).doesNotContain("OutOfMemoryError").doesNotContain("Too many open");

    Path events = dir.resolve("data").resolve("events");
    Await.until(
        () -> missing(events).isEmpty(),
        Duration.ofSeconds(30),
        () -> missing(events).size() + " acknowledged events missing");
    System.out.printf(
        "attack suite: %d events acknowledged during the attacks, all stored; legitimate"
            + " answers %s; %d open files (%d at start); %.1f MiB heap after GC%n",
        acked.size(), loadAnswers, openFiles(), filesAtStart, heap / 1024 / 1024);
    assertThat(acked.size()).isGreaterThan(200);
  }

  /** The legitimate client got answers other than 200 at most rarely, and 200s still come. */
  private static void assertLegitimateClientServed() {
    int before = acked.size();
    Await.until(() -> acked.size() >= before + 20, LOAD_CHECK, () -> "answers " + loadAnswers);
  }

  private static String bodyWithoutItsLastByte(String source) {
    int size = 20_000_000;
    try (Socket s = Sockets.connect(source, service.port())) {
      s.setSoTimeout(2_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /batch HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + size
                  + "\r\n\r\n[")
              .getBytes());
      byte[] chunk = new byte[1 << 16];
      java.util.Arrays.fill(chunk, (byte) ' ');
      for (int sent = 1; sent < size - 1; sent += chunk.length) {
        out.write(chunk, 0, Math.min(chunk.length, size - 1 - sent));
      }
      out.flush();
      return Integer.toString(RawHttp.status(Sockets.readAnswer(s)));
    } catch (SocketTimeoutException e) {
      return "held";
    } catch (IOException e) {
      return e.getClass().getSimpleName();
    }
  }

  private static double refusedConnections() {
    try {
      return service.metric("trellis_http_connections_refused_total", "");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static <K> void count(Map<K, AtomicInteger> m, K outcome) {
    m.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
  }

  /** Batches of ten 1 KB events, as fast as answers come; records every acknowledged id. */
  private static void legitimateClient() {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < 10; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"event\":\"legit\",\"pad\":\"");
      sb.append("p".repeat(1000)).append("\"}");
    }
    String batch = sb.append(']').toString();
    while (!stopLoad.get()) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + "/batch"))
                    .timeout(Duration.ofSeconds(10))
                    .header("Authorization", "Bearer " + key)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(batch))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        count(loadAnswers, Integer.toString(r.statusCode()));
        if (r.statusCode() == 200) {
          for (JsonNode id :
              io.trellis.ingress.testing.RunningService.json(r.body()).path("event_ids")) {
            acked.add(id.asText());
          }
        }
      } catch (IOException e) {
        count(loadAnswers, e.getClass().getSimpleName());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static Set<String> missing(Path events) {
    Set<String> missing = new HashSet<>(acked);
    for (JsonNode e : StoredFiles.events(events)) {
      missing.remove(e.path("event_id").asText());
    }
    return missing;
  }

  private static Set<String> segments() {
    try (Stream<Path> files = Files.list(dir.resolve("data").resolve("spool"))) {
      return new HashSet<>(
          files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".segment")).toList());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static long openFiles() {
    try {
      return service.openFiles();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static double bodyMemory() {
    try {
      return service.metric("trellis_http_body_memory_bytes", "");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
