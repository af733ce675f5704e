package io.trellis.ingress.auth.warden;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.auth.AuthResult;
import io.trellis.ingress.auth.LocalKeyStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call of Warden's verify endpoint, turned into a verdict:
 *
 * <pre>
 * GET {url}/v1/api-keys/verify            Authorization: Bearer KEY
 *   200 {"organization_id","key_id","scopes":[...]}  scopes has "ingest": Authorized
 *                                                    otherwise:            Forbidden
 *   401, 403, 404                                                          Unauthorized
 *   other 4xx (but 408, 429), a 200 it cannot read, timeout     Unavailable, the key's fault
 *   5xx, 408, 429, connection failure                           Unavailable, an outage
 * </pre>
 *
 * A timeout is the key's fault here because one slow answer says nothing about other keys; the
 * resolver decides when timeouts for several keys make an outage.
 *
 * <p>Never blocks the caller: the request is sent from the client's own threads. The key travels
 * only in the request header; no message, log line or exception built here contains it.
 * Thread-safe.
 */
final class WardenClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WardenClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String INGEST_SCOPE = "ingest";

  /** Lets the key's events carry the client IP and user agent a server-side SDK relays. */
  private static final String RELAY_SCOPE = "relay";

  private final URI verifyUri;
  private final Duration timeout;
  private final ExecutorService executor;
  private final HttpClient http;

  WardenClient(URI verifyUri, Duration timeout) {
    this.verifyUri = requireNonNull(verifyUri, "verifyUri is null");
    this.timeout = requireNonNull(timeout, "timeout is null");
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "warden-client-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(executor)
            .build();
  }

  /** The verdict on the key; completes (never exceptionally) within about the timeout. */
  CompletableFuture<AuthResult> verify(String key) {
    HttpRequest request =
        HttpRequest.newBuilder(verifyUri)
            .timeout(timeout)
            .header("Authorization", "Bearer " + key)
            .header("Accept", "application/json")
            .GET()
            .build();
    // sendAsync may resolve names and open the connection on the calling thread: start it on the
    // client's executor so an event loop never does that work.
    return CompletableFuture.supplyAsync(
            () -> http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()), executor)
        .thenCompose(f -> f)
        // The request timeout covers the response headers; this bounds the body too.
        .orTimeout(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)
        .handle((res, err) -> err != null ? failed(err) : interpret(res.statusCode(), res.body()));
  }

  static AuthResult interpret(int status, byte[] body) {
    if (status == 401 || status == 403 || status == 404) {
      return new AuthResult.Unauthorized("unknown API key");
    }
    if (status >= 400 && status < 500 && status != 408 && status != 429) {
      // Warden refused this request (say, a key it cannot parse): other keys are not affected.
      return keyFault("Warden answered HTTP " + status);
    }
    if (status != 200) {
      return unavailable("Warden answered HTTP " + status);
    }
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (IOException e) {
      return malformed("a body that is not JSON");
    }
    if (json == null || !json.isObject()) {
      return malformed("a body that is not a JSON object");
    }
    String org = json.path("organization_id").asText("");
    if (!json.path("organization_id").isTextual() || !LocalKeyStore.isValidOrganizationId(org)) {
      return malformed("no valid organization_id");
    }
    JsonNode keyId = json.path("key_id");
    JsonNode scopes = json.path("scopes");
    if (!scopes.isArray()) {
      return malformed("no scopes array");
    }
    boolean ingest = false;
    boolean relay = false;
    for (JsonNode s : scopes) {
      ingest |= INGEST_SCOPE.equals(s.asText());
      relay |= RELAY_SCOPE.equals(s.asText());
    }
    if (ingest) {
      return new AuthResult.Authorized(org, keyId.isTextual() ? keyId.asText() : "", relay);
    }
    return new AuthResult.Forbidden("API key lacks the '" + INGEST_SCOPE + "' scope");
  }

  private static AuthResult malformed(String what) {
    log.error("Warden answered 200 with {}; refusing that key for now", what);
    return keyFault("Warden answered 200 with " + what);
  }

  private static AuthResult failed(Throwable err) {
    Throwable e = err;
    while (e.getCause() != null
        && (e instanceof java.util.concurrent.CompletionException
            || e instanceof java.util.concurrent.ExecutionException)) {
      e = e.getCause();
    }
    if (e instanceof java.net.http.HttpConnectTimeoutException) {
      return unavailable("Warden call failed: connect timed out");
    }
    if (e instanceof java.net.http.HttpTimeoutException
        || e instanceof java.util.concurrent.TimeoutException) {
      return keyFault(TIMED_OUT);
    }
    return unavailable("Warden call failed: " + e.getClass().getSimpleName());
  }

  /** The reason of a verdict for a key whose answer did not come in time. */
  static final String TIMED_OUT = "Warden did not answer in time";

  static boolean timedOut(AuthResult result) {
    return result instanceof AuthResult.Unavailable u && TIMED_OUT.equals(u.reason());
  }

  private static AuthResult keyFault(String reason) {
    return new AuthResult.Unavailable(reason, Duration.ZERO, true);
  }

  private static AuthResult unavailable(String reason) {
    // Retry-After is decided by the resolver, which knows when it will call Warden again.
    return new AuthResult.Unavailable(reason, Duration.ZERO);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "WardenClient{" + verifyUri + ", timeout=" + timeout + "}";
  }
}
