package io.trellis.ingress.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.auth.LocalKeyStore;
import io.trellis.ingress.cli.IngressService;
import io.trellis.ingress.cli.ServiceSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The real service, started in-process on a free port with its own data directory, for tests that
 * talk to it over real HTTP and read what it stored on disk.
 */
public final class RunningService implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dataDir;
  private final IngressService service;
  /*
   * HTTP/1.1, as browsers and SDKs send to an ingress without TLS. The JDK client's default,
   * HTTP/2 by "Upgrade: h2c", sometimes never receives a large first answer (the 25 KB OpenAPI
   * document hung in about one upgrade in ten, against this service and against a bare Vert.x
   * server alike; curl's upgrade did not). HostileInputIT covers h2c, upgrade and prior
   * knowledge, on its own.
   */
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final LocalKeyStore keys;

  private RunningService(Path dataDir, IngressService service) {
    this.dataDir = dataDir;
    this.service = service;
    this.keys = LocalKeyStore.open(dataDir);
  }

  /** Starts the service with defaults plus the given settings (data-dir and port are set here). */
  public static RunningService start(Path dataDir, Map<String, String> settings) {
    Map<String, String> all = new HashMap<>();
    all.put("data-dir", dataDir.toString());
    all.put("port", "0");
    all.put("admin.port", "0");
    all.put("auth.demo-key", "false");
    all.put("spool.batch-max-age", "50ms");
    all.putAll(settings);
    try {
      IngressService s =
          IngressService.start(
              ServiceSettings.config(all), new PrintStream(new ByteArrayOutputStream()));
      return new RunningService(dataDir, s);
    } catch (Exception e) {
      throw new IllegalStateException("service did not start", e);
    }
  }

  public static RunningService start(Path dataDir) {
    return start(dataDir, Map.of());
  }

  public Path dataDir() {
    return dataDir;
  }

  public int port() {
    return service.port();
  }

  public int adminPort() {
    return service.adminPort();
  }

  public IngressService service() {
    return service;
  }

  public URI adminUri(String path) {
    return URI.create("http://127.0.0.1:" + adminPort() + path);
  }

  /** The service's meters. */
  public MeterRegistry meters() {
    return service.meters();
  }

  public URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
  }

  /** The key store under the service's data directory, as the {@code keys} command opens it. */
  public LocalKeyStore keyStore() {
    return keys;
  }

  /** Creates a key for the organization in the service's local key store; usable at once. */
  public String createKey(String org) {
    return createKey(org, false);
  }

  /** The same; with {@code relay}, server-side SDKs may set the events' client IP and UA. */
  public String createKey(String org, boolean relay) {
    String key = keys.create(org, "test", relay).key();
    service.reloadKeys(); // rather than waiting for the server's once-a-second reload
    return key;
  }

  public HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<byte[]> sendForBytes(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<String> postJson(String path, String key, String json) {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  public HttpResponse<String> get(String pathAndQuery) {
    return send(HttpRequest.newBuilder(uri(pathAndQuery)).GET());
  }

  /** Every event the files sink has stored so far, as parsed NDJSON lines. */
  public List<JsonNode> storedEvents() {
    return StoredFiles.events(dataDir.resolve("events"));
  }

  /** Waits up to 10 s until the stored events satisfy the condition; returns them. */
  public List<JsonNode> awaitStored(Predicate<List<JsonNode>> condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<JsonNode> events = storedEvents();
    while (!condition.test(events)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("stored events never satisfied the condition; have " + events);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      events = storedEvents();
    }
    return events;
  }

  /** The stored event with this id, waiting for it to appear. */
  public JsonNode awaitEvent(String eventId) {
    return awaitStored(es -> es.stream().anyMatch(e -> e.path("event_id").asText().equals(eventId)))
        .stream()
        .filter(e -> e.path("event_id").asText().equals(eventId))
        .findFirst()
        .orElseThrow();
  }

  public static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** All regular files under the data directory, for scanning what the service wrote. */
  public List<Path> allFiles() {
    try (Stream<Path> s = Files.walk(dataDir)) {
      return new ArrayList<>(s.filter(Files::isRegularFile).toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    service.close();
  }
}
