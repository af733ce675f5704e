package io.trellis.ingress.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A local Warden speaking its verify contract ({@code GET /v1/api-keys/verify}, {@code
 * Authorization: Bearer KEY}), for tests: it counts calls and can be switched to fail with 5xx, to
 * hang, to hold answers until released, or to refuse connections.
 */
public final class FakeWarden implements AutoCloseable {
  public enum Mode {
    SERVE,
    FAIL,
    HANG
  }

  private record Grant(String org, String keyId, List<String> scopes) {}

  private record Canned(int status, String json) {}

  private final Map<String, Grant> grants = new ConcurrentHashMap<>();
  private final Map<String, Canned> canned = new ConcurrentHashMap<>();
  private final Map<String, Boolean> slow = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> callsByKey = new ConcurrentHashMap<>();
  private final AtomicInteger calls = new AtomicInteger();
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private volatile Mode mode = Mode.SERVE;
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private volatile boolean closed;
  private HttpServer server;
  private int port;

  public FakeWarden() {
    start(0);
  }

  private synchronized void start(int p) {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), p), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/v1/api-keys/verify", this::verify);
    server.setExecutor(executor);
    server.start();
    port = server.getAddress().getPort();
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  public FakeWarden grant(String key, String org, String... scopes) {
    grants.put(key, new Grant(org, "key-" + org, List.of(scopes)));
    return this;
  }

  public FakeWarden grant(String key, String org) {
    return grant(key, org, "ingest", "read");
  }

  /** Answers this key, and only this key, with the given status and JSON body. */
  public FakeWarden answer(String key, int status, String json) {
    canned.put(key, new Canned(status, json));
    return this;
  }

  /** Answers this key, and only this key, not before 30 s (or closing). */
  public FakeWarden slow(String key) {
    slow.put(key, true);
    return this;
  }

  public void revoke(String key) {
    grants.remove(key);
  }

  public void mode(Mode m) {
    mode = m;
  }

  /** Answers nothing until {@link #release()}. */
  public void hold() {
    gate = new CountDownLatch(1);
  }

  public void release() {
    gate.countDown();
  }

  /** Stops listening: connections are refused until {@link #resume()}. */
  public synchronized void refuse() {
    server.stop(0);
  }

  /** Listens again on the same port. */
  public synchronized void resume() {
    start(port);
  }

  public int calls() {
    return calls.get();
  }

  public int calls(String key) {
    AtomicInteger n = callsByKey.get(key);
    return n == null ? 0 : n.get();
  }

  /** Waits up to 10 s until Warden has been called at least n times. */
  public void awaitCalls(int n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (calls.get() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Warden was called " + calls.get() + " times, expected " + n);
      }
      sleep(5);
    }
  }

  private void verify(HttpExchange ex) throws IOException {
    try (ex) {
      calls.incrementAndGet();
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      String key = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
      if (key != null) {
        callsByKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      }
      try {
        if (!gate.await(30, TimeUnit.SECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      long hangUntil = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      boolean hang = key != null && slow.containsKey(key);
      while ((hang || mode == Mode.HANG) && !closed && System.nanoTime() < hangUntil) {
        sleep(10);
      }
      if (mode == Mode.FAIL) {
        answer(ex, 503, "{\"error\":\"overloaded\"}");
        return;
      }
      if (!"GET".equals(ex.getRequestMethod())) {
        answer(ex, 405, "{}");
        return;
      }
      Canned c = key == null ? null : canned.get(key);
      if (c != null) {
        answer(ex, c.status(), c.json());
        return;
      }
      Grant g = key == null ? null : grants.get(key);
      if (g == null) {
        answer(ex, 401, "{\"error\":\"invalid_api_key\"}");
        return;
      }
      String scopes =
          g.scopes().stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(","));
      answer(
          ex,
          200,
          "{\"organization_id\":\""
              + g.org()
              + "\",\"key_id\":\""
              + g.keyId()
              + "\",\"scopes\":["
              + scopes
              + "]}");
    }
  }

  private static void answer(HttpExchange ex, int status, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    gate.countDown();
    server.stop(0);
    executor.shutdownNow();
  }
}
