package io.trellis.ingress.auth.warden;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.auth.ApiKeys;
import io.trellis.ingress.auth.AuthAttempt;
import io.trellis.ingress.auth.AuthResult;
import io.trellis.ingress.auth.KeyResolver;
import io.trellis.ingress.config.Durations;
import io.trellis.ingress.config.UrlSecrets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves API keys by asking Warden, through a bounded cache of verdicts keyed by the SHA-256 of
 * the key (the key itself is never kept).
 *
 * <pre>
 *   verified        refresh point (80% of TTL)     TTL            TTL + stale limit
 *   |----- fresh: answered from cache -----|-------|-- stale --------------|
 *                  a request presenting the key     only while Warden is unavailable;
 *                  starts a background re-check     otherwise the request waits for Warden
 * </pre>
 *
 * <ul>
 *   <li>Valid verdicts live {@code validTtl}, invalid ones (unknown, revoked, wrong scope) {@code
 *       invalidTtl}. A refresh needs the key, which the cache does not hold, so it is started by
 *       the next request that presents the key past the refresh point; an idle key simply expires.
 *   <li>At most one Warden call per key is in flight: concurrent requests for it share the call.
 *   <li>A failure of one key alone (Warden answers it with a 4xx other than "unknown key", with a
 *       200 it cannot read, or not within the timeout) is cached for that key for {@code
 *       retryInterval}: the key gets {@link AuthResult.Unavailable} with {@code keyFault} (503,
 *       counted against the sender), other keys are not affected. One client must not be able to
 *       shut every new key out by sending a key that draws a bad answer.
 *   <li>An outage (5xx, 408, 429, refused or unconnectable, or timeouts for {@value
 *       #TIMEOUTS_FOR_OUTAGE} distinct keys in a row) leaves Warden alone for {@code
 *       retryInterval}: keys with a valid verdict younger than TTL + stale limit keep working
 *       (counted as stale), other keys get {@link AuthResult.Unavailable} (503, Retry-After) at
 *       once. After the interval the next request calls Warden again, so recovery needs no restart.
 *   <li>A request that would call Warden about a key without a valid verdict first reserves a
 *       failure from its sender's {@link AuthAttempt}; when none is left it gets {@link
 *       AuthResult.Throttled} and Warden is not called.
 * </ul>
 *
 * <p>Never blocks the caller. Thread-safe.
 */
public final class WardenKeyResolver implements KeyResolver {
  private static final Logger log = LoggerFactory.getLogger(WardenKeyResolver.class);

  /** Longest key sent to Warden; anything longer is not a key. */
  private static final int MAX_KEY_LENGTH = 512;

  /** Timeouts for this many distinct keys, with no answer in between, mean Warden is down. */
  static final int TIMEOUTS_FOR_OUTAGE = 3;

  private final WardenConfig config;
  private final WardenClient client;
  private final Ticker ticker;
  private final Cache<String, Entry> cache;
  private final ConcurrentHashMap<String, CompletableFuture<AuthResult>> inFlight =
      new ConcurrentHashMap<>();
  private final WardenStats stats;
  private final AtomicBoolean down = new AtomicBoolean();

  /** Digests of the keys whose calls timed out since Warden last answered; guarded by itself. */
  private final Set<String> timeoutStreak = new HashSet<>();

  /** Guards the change of {@link #down} and the outage's start figures below. */
  private final Object outageLock = new Object();

  /** When the current outage began, and the counters then; meaningful when down. */
  private long downSinceMillis;

  private long staleAtOutage;
  private long unverifiableAtOutage;

  /** Ticker time before which Warden is not called (it failed recently); meaningful when down. */
  private volatile long quietUntil;

  /**
   * A verdict and its deadlines in ticker nanoseconds. {@code keepUntil} is when the cache drops
   * it: the end of the stale window for valid verdicts, {@code freshUntil} for the others.
   */
  private record Entry(AuthResult verdict, long refreshAt, long freshUntil, long keepUntil) {}

  public WardenKeyResolver(WardenConfig config, MeterRegistry registry) {
    this(config, registry, Ticker.systemTicker());
  }

  WardenKeyResolver(WardenConfig config, MeterRegistry registry, Ticker ticker) {
    this.config = requireNonNull(config, "config is null");
    this.ticker = requireNonNull(ticker, "ticker is null");
    this.client = new WardenClient(config.verifyUri(), config.timeout());
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(config.cacheMaxKeys())
            .ticker(ticker)
            .expireAfter(
                new Expiry<String, Entry>() {
                  @Override
                  public long expireAfterCreate(String k, Entry e, long now) {
                    return Math.max(0, e.keepUntil() - now);
                  }

                  @Override
                  public long expireAfterUpdate(String k, Entry e, long now, long current) {
                    return Math.max(0, e.keepUntil() - now);
                  }

                  @Override
                  public long expireAfterRead(String k, Entry e, long now, long current) {
                    return current;
                  }
                })
            .build();
    this.stats =
        new WardenStats(requireNonNull(registry, "registry is null"), cache::estimatedSize);
  }

  @Override
  public CompletionStage<AuthResult> resolve(String apiKey) {
    return resolve(apiKey, AuthAttempt.UNLIMITED);
  }

  @Override
  public CompletionStage<AuthResult> resolve(String apiKey, AuthAttempt attempt) {
    requireNonNull(attempt, "attempt is null");
    if (!sendable(apiKey)) {
      return CompletableFuture.completedFuture(new AuthResult.Unauthorized("malformed API key"));
    }
    String digest = ApiKeys.hash(apiKey);
    long now = ticker.read();
    Entry e = cache.getIfPresent(digest);
    if (e != null && now - e.freshUntil() < 0) {
      stats.hit();
      if (e.verdict() instanceof AuthResult.Unavailable u) {
        return CompletableFuture.completedFuture(keyFailure(u, e.freshUntil() - now));
      }
      if (now - e.refreshAt() >= 0 && mayCall(now) && !inFlight.containsKey(digest)) {
        stats.refresh();
        call(digest, apiKey, null);
      }
      return CompletableFuture.completedFuture(e.verdict());
    }
    if (!mayCall(now)) {
      return CompletableFuture.completedFuture(fallback(e, now));
    }
    boolean known = e != null && e.verdict() instanceof AuthResult.Authorized;
    return call(digest, apiKey, known ? null : attempt)
        .thenApply(
            r -> {
              if (!(r instanceof AuthResult.Unavailable u)) {
                return r;
              }
              AuthResult stale = fallback(e, ticker.read());
              return u.keyFault() && stale instanceof AuthResult.Unavailable
                  ? keyFailure(u, config.retryInterval().toNanos())
                  : stale;
            });
  }

  /**
   * One Warden call per key at a time: later callers get the call already in flight. A caller that
   * would start a call reserves it from {@code attempt} first (null: no reservation).
   */
  private CompletableFuture<AuthResult> call(String digest, String apiKey, AuthAttempt attempt) {
    CompletableFuture<AuthResult> running = inFlight.get(digest);
    if (running != null) {
      stats.joined();
      return running;
    }
    if (attempt != null) {
      long wait = attempt.reserve();
      if (wait > 0) {
        return CompletableFuture.completedFuture(
            new AuthResult.Throttled(Duration.ofSeconds(wait)));
      }
    }
    CompletableFuture<AuthResult> promise = new CompletableFuture<>();
    running = inFlight.putIfAbsent(digest, promise);
    if (running != null) {
      stats.joined();
      return running;
    }
    // A call for this key may have finished between the caller's cache lookup and the
    // putIfAbsent above (on another event loop): its verdict is cached by now, so use it.
    Entry cached = cache.getIfPresent(digest);
    if (cached != null && ticker.read() - cached.refreshAt() < 0) {
      inFlight.remove(digest, promise);
      stats.hit();
      promise.complete(cached.verdict());
      return promise;
    }
    stats.miss();
    CompletableFuture<AuthResult> verdict;
    try {
      verdict = client.verify(apiKey);
    } catch (RuntimeException ex) {
      verdict =
          CompletableFuture.completedFuture(
              new AuthResult.Unavailable(
                  "Warden call failed: " + ex.getClass().getSimpleName(), Duration.ZERO));
    }
    verdict.whenComplete(
        (r, err) -> {
          AuthResult result =
              r != null ? r : new AuthResult.Unavailable("Warden call failed", Duration.ZERO);
          record(digest, result);
          // Cache first, then leave the in-flight map: a request arriving in between finds one.
          inFlight.remove(digest, promise);
          promise.complete(result);
        });
    return promise;
  }

  private void record(String digest, AuthResult result) {
    stats.called(result);
    long now = ticker.read();
    if (result instanceof AuthResult.Unavailable u && u.keyFault()) {
      if (WardenClient.timedOut(result)) {
        int streak;
        synchronized (timeoutStreak) {
          timeoutStreak.add(digest);
          streak = timeoutStreak.size();
        }
        if (streak >= TIMEOUTS_FOR_OUTAGE) {
          goDown(now, "timeouts for " + streak + " keys in a row");
        }
      } else {
        answered();
      }
      Entry current = cache.getIfPresent(digest);
      if (current == null || !(current.verdict() instanceof AuthResult.Authorized)) {
        long until = now + config.retryInterval().toNanos();
        cache.put(digest, new Entry(u, until, until, until));
      }
      return;
    }
    if (result instanceof AuthResult.Unavailable u) {
      goDown(now, u.reason());
      return;
    }
    answered();
    Entry entry;
    if (result instanceof AuthResult.Authorized) {
      long ttl = config.validTtl().toNanos();
      long fresh = now + ttl;
      entry = new Entry(result, now + ttl - ttl / 5, fresh, fresh + config.staleLimit().toNanos());
    } else {
      long fresh = now + config.invalidTtl().toNanos();
      entry = new Entry(result, fresh, fresh, fresh);
    }
    cache.put(digest, entry);
  }

  private void goDown(long now, String reason) {
    quietUntil = now + config.retryInterval().toNanos();
    synchronized (timeoutStreak) {
      timeoutStreak.clear();
    }
    if (!down.get()) {
      synchronized (outageLock) {
        if (down.compareAndSet(false, true)) {
          downSinceMillis = System.currentTimeMillis();
          staleAtOutage = stats.staleCount();
          unverifiableAtOutage = stats.unverifiableCount();
          log.atWarn()
              .addKeyValue("event", "warden_down")
              .addKeyValue("reason", reason)
              .addKeyValue("warden", UrlSecrets.mask(config.verifyUri().toString()))
              .log(
                  "Warden is unavailable ({}); serving cached verdicts and retrying every {}",
                  reason,
                  Durations.format(config.retryInterval()));
        }
      }
    }
  }

  /** Warden answered a call: it is up. */
  private void answered() {
    synchronized (timeoutStreak) {
      timeoutStreak.clear();
    }
    if (down.get()) {
      synchronized (outageLock) {
        if (down.compareAndSet(true, false)) {
          Duration outage = Duration.ofMillis(System.currentTimeMillis() - downSinceMillis);
          long stale = stats.staleCount() - staleAtOutage;
          long refused = stats.unverifiableCount() - unverifiableAtOutage;
          log.atInfo()
              .addKeyValue("event", "warden_recovered")
              .addKeyValue("down_seconds", outage.toMillis() / 1000.0)
              .addKeyValue("stale_accepted", stale)
              .addKeyValue("refused", refused)
              .log(
                  "Warden is available again after {}: meanwhile {} requests were accepted with"
                      + " cached verdicts and {} answered 503",
                  Durations.elapsed(outage),
                  stale,
                  refused);
        }
      }
    }
  }

  /** A failure of this key alone, to retry after {@code waitNanos}. */
  private static AuthResult keyFailure(AuthResult.Unavailable u, long waitNanos) {
    return new AuthResult.Unavailable(u.reason(), Duration.ofSeconds(ceilSeconds(waitNanos)), true);
  }

  private static long ceilSeconds(long nanos) {
    return Math.max(1, (Math.max(0, nanos) + 999_999_999L) / 1_000_000_000L);
  }

  private boolean mayCall(long now) {
    return !down.get() || now - quietUntil >= 0;
  }

  /** Warden cannot answer: a valid verdict within its stale window, or 503. */
  private AuthResult fallback(Entry e, long now) {
    if (e != null && e.verdict() instanceof AuthResult.Authorized && now - e.keepUntil() < 0) {
      stats.stale();
      return e.verdict();
    }
    stats.unverifiable();
    long waitNanos = down.get() ? Math.max(0, quietUntil - now) : 0;
    long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    return new AuthResult.Unavailable(
        "cannot verify the API key now; retry later", Duration.ofSeconds(seconds));
  }

  /** Printable ASCII without spaces, as a bearer token is; anything else cannot be a key. */
  private static boolean sendable(String key) {
    if (key == null || key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    client.close();
  }

  @Override
  public String toString() {
    return "WardenKeyResolver{url="
        + config.url()
        + ", cached="
        + cache.estimatedSize()
        + ", down="
        + down.get()
        + "}";
  }
}
