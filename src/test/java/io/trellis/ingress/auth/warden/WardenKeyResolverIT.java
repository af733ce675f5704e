package io.trellis.ingress.auth.warden;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.auth.AuthResult;
import io.trellis.ingress.testing.FakeWarden;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WardenKeyResolverIT {
  private static final String KEY = "wk_live_0123456789abcdefghijklmnop";
  private static final String OTHER = "wk_live_zyxwvutsrqponmlkjihgfedcba";

  private final FakeWarden warden = new FakeWarden();
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private WardenKeyResolver resolver = resolver(Duration.ofSeconds(2));

  private WardenKeyResolver resolver(Duration timeout) {
    WardenConfig config =
        new WardenConfig(
            URI.create(warden.url()),
            timeout,
            Duration.ofMinutes(5),
            Duration.ofSeconds(30),
            Duration.ofHours(1),
            Duration.ofSeconds(5),
            1000);
    return new WardenKeyResolver(config, meters, clock::get);
  }

  @AfterEach
  void close() {
    resolver.close();
    warden.close();
  }

  private AuthResult resolve(String key) {
    try {
      return resolver.resolve(key).toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("resolve did not complete", e);
    }
  }

  private void advance(Duration d) {
    clock.addAndGet(d.toNanos());
  }

  private double count(String name, String tag, String value) {
    var c = meters.find(name).tag(tag, value).counter();
    return c == null ? 0 : c.count();
  }

  private double count(String name) {
    var c = meters.find(name).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void validKeyResolvesToTheOrganizationWardenNames() {
    warden.grant(KEY, "acme");

    assertThat(resolve(KEY)).isEqualTo(new AuthResult.Authorized("acme", "key-acme"));
    assertThat(warden.calls(KEY)).isEqualTo(1);
  }

  @Test
  void unknownKeyIsUnauthorized() {
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Unauthorized.class);
  }

  @Test
  void keyWithoutTheIngestScopeIsForbidden() {
    warden.grant(KEY, "acme", "read", "admin");

    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Forbidden.class);
  }

  @Test
  void manyRequestsWithOneKeyCallWardenOnce() {
    warden.grant(KEY, "acme");

    for (int i = 0; i < 200; i++) {
      assertThat(resolve(KEY)).isInstanceOf(AuthResult.Authorized.class);
      advance(Duration.ofMillis(100)); // 20 s in all, well inside the 5 minute TTL
    }

    assertThat(warden.calls()).isEqualTo(1);
    assertThat(count("trellis.auth.warden.cache", "result", "hit")).isEqualTo(199);
    assertThat(count("trellis.auth.warden.cache", "result", "miss")).isEqualTo(1);
  }

  /**
   * Concurrent first requests for a key, from several threads as from several event loops, make one
   * Warden call per key. (The narrower case, a thread that looked in the cache just before another
   * thread's call finished, is too short a window to hit here on purpose; the service test's
   * hundred concurrent requests over HTTP/1.1 caught it.)
   */
  @Test
  void concurrentFirstRequestsFromManyThreadsCallWardenOncePerKey() throws Exception {
    int keys = 40;
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int k = 0; k < keys; k++) {
        String key = String.format("wk_live_%026d", k);
        warden.grant(key, "acme");
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<AuthResult>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int delay = t;
          results.add(
              pool.submit(
                  () -> {
                    start.await();
                    // Spread the arrivals over the first call's lifetime.
                    Thread.sleep(0, delay * 50_000);
                    return resolve(key);
                  }));
        }
        for (Future<AuthResult> r : results) {
          assertThat(r.get(20, TimeUnit.SECONDS)).isInstanceOf(AuthResult.Authorized.class);
        }
        assertThat(warden.calls(key)).as(key).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void invalidVerdictIsCachedForItsOwnShorterTtl() {
    for (int i = 0; i < 20; i++) {
      assertThat(resolve(KEY)).isInstanceOf(AuthResult.Unauthorized.class);
    }
    assertThat(warden.calls()).isEqualTo(1);

    warden.grant(KEY, "acme"); // the key is created in Warden; the refusal is still cached
    advance(Duration.ofSeconds(29));
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(warden.calls()).isEqualTo(1);

    advance(Duration.ofSeconds(2));
    assertThat(resolve(KEY)).isEqualTo(new AuthResult.Authorized("acme", "key-acme"));
    assertThat(warden.calls()).isEqualTo(2);
  }

  @Test
  void validVerdictIsRefreshedInTheBackgroundBeforeItExpires() {
    warden.grant(KEY, "acme");
    resolve(KEY);

    advance(Duration.ofMinutes(4).plusSeconds(10)); // past the refresh point (80% of 5 minutes)
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Authorized.class); // answered from cache
    warden.awaitCalls(2);
    assertThat(count("trellis.auth.warden.refreshes")).isEqualTo(1);

    // The refreshed verdict carries the key for another 5 minutes without a call.
    advance(Duration.ofMinutes(3));
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Authorized.class);
    assertThat(warden.calls()).isEqualTo(2);
  }

  @Test
  void keyRevokedInWardenIsRefusedOnceTheBackgroundRefreshLearnsIt() {
    warden.grant(KEY, "acme");
    resolve(KEY);
    warden.revoke(KEY);

    advance(Duration.ofMinutes(4).plusSeconds(30));
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Authorized.class); // refresh started
    warden.awaitCalls(2);

    awaitVerdict(KEY, AuthResult.Unauthorized.class);
  }

  @Test
  void expiredValidVerdictIsReverifiedBeforeUse() {
    warden.grant(KEY, "acme");
    resolve(KEY);
    warden.revoke(KEY);

    advance(Duration.ofMinutes(6)); // expired: never used past its refresh point
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(warden.calls()).isEqualTo(2);
  }

  @Test
  void knownKeysKeepWorkingFromStaleVerdictsWhileWardenFails() {
    warden.grant(KEY, "acme");
    resolve(KEY);
    warden.mode(FakeWarden.Mode.FAIL);

    advance(Duration.ofMinutes(6));
    assertThat(resolve(KEY)).isEqualTo(new AuthResult.Authorized("acme", "key-acme"));
    assertThat(warden.calls()).isEqualTo(2); // it did try Warden first

    // Within the retry interval Warden is left alone; the stale verdict answers at once.
    for (int i = 0; i < 10; i++) {
      assertThat(resolve(KEY)).isInstanceOf(AuthResult.Authorized.class);
    }
    assertThat(warden.calls()).isEqualTo(2);
    assertThat(count("trellis.auth.warden.stale")).isEqualTo(11);

    advance(Duration.ofMinutes(58)); // 64 minutes after verification: 5 TTL + 59 stale
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Authorized.class);

    advance(Duration.ofMinutes(2)); // 66 minutes: past TTL + the 1 hour stale limit
    AuthResult r = resolve(KEY);
    assertThat(r).isInstanceOf(AuthResult.Unavailable.class);
  }

  @Test
  void unknownKeyDuringAnOutageIsUnavailableWithRetryAfterAndNotCached() {
    warden.grant(OTHER, "acme");
    warden.mode(FakeWarden.Mode.FAIL);

    AuthResult r = resolve(OTHER);

    assertThat(r).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) r).retryAfter()).isEqualTo(Duration.ofSeconds(5));
    assertThat(count("trellis.auth.warden.calls", "outcome", "unavailable")).isEqualTo(1);
    assertThat(count("trellis.auth.warden.unverifiable")).isEqualTo(1);

    // Still inside the retry interval: 503 at once, without another call.
    advance(Duration.ofSeconds(2));
    AuthResult again = resolve(OTHER);
    assertThat(again).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) again).retryAfter()).isEqualTo(Duration.ofSeconds(3));
    assertThat(warden.calls()).isEqualTo(1);
  }

  @Test
  void wardenRecoveringNeedsNoRestart() {
    warden.grant(KEY, "acme");
    warden.mode(FakeWarden.Mode.FAIL);
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Unavailable.class);

    warden.mode(FakeWarden.Mode.SERVE);
    advance(Duration.ofSeconds(5));

    assertThat(resolve(KEY)).isEqualTo(new AuthResult.Authorized("acme", "key-acme"));
    assertThat(warden.calls()).isEqualTo(2);
  }

  @Test
  void refusedConnectionsMeanUnavailableAndRecoveryFollowsTheRestart() {
    warden.grant(KEY, "acme");
    warden.refuse();

    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Unavailable.class);

    warden.resume();
    advance(Duration.ofSeconds(5));
    assertThat(resolve(KEY)).isInstanceOf(AuthResult.Authorized.class);
  }

  @Test
  void hangingWardenTimesOutAsUnavailable() {
    resolver.close();
    resolver = resolver(Duration.ofMillis(300));
    warden.grant(KEY, "acme");
    warden.mode(FakeWarden.Mode.HANG);

    AuthResult r = resolve(KEY);

    assertThat(r).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) r).keyFault()).isTrue();
    assertThat(count("trellis.auth.warden.calls", "outcome", "key_failure")).isEqualTo(1);
  }

  @Test
  void timeoutsForSeveralDistinctKeysInARowMeanWardenIsDown() {
    resolver.close();
    resolver = resolver(Duration.ofMillis(200));
    warden.mode(FakeWarden.Mode.HANG);
    for (int i = 0; i < WardenKeyResolver.TIMEOUTS_FOR_OUTAGE; i++) {
      AuthResult r = resolve(KEY + i);
      assertThat(((AuthResult.Unavailable) r).keyFault()).isTrue();
    }
    int calls = warden.calls();

    AuthResult next = resolve(OTHER);

    assertThat(next).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) next).keyFault()).isFalse();
    assertThat(warden.calls()).isEqualTo(calls); // left alone for the retry interval
  }

  @Test
  void hangingWardenDoesNotStopKnownKeysOnceTheirVerdictExpired() {
    resolver.close();
    resolver = resolver(Duration.ofMillis(300));
    warden.grant(KEY, "acme");
    resolve(KEY);
    warden.mode(FakeWarden.Mode.HANG);
    advance(Duration.ofMinutes(10));

    assertThat(resolve(KEY)).isEqualTo(new AuthResult.Authorized("acme", "key-acme"));
    assertThat(count("trellis.auth.warden.stale")).isEqualTo(1);
  }

  @Test
  void hundredConcurrentRequestsWithANewKeyMakeOneWardenCall() throws Exception {
    warden.grant(KEY, "acme");
    warden.hold();
    int n = 100;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    CountDownLatch start = new CountDownLatch(1);
    CountDownLatch issued = new CountDownLatch(n);
    List<CompletableFuture<AuthResult>> results = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        results.add(
            CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        start.await();
                      } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                      }
                      var stage = resolver.resolve(KEY);
                      issued.countDown();
                      return stage;
                    },
                    pool)
                .thenCompose(s -> s));
      }
      start.countDown();
      assertThat(issued.await(20, TimeUnit.SECONDS)).isTrue();
      warden.awaitCalls(1);
      warden.release();

      for (CompletableFuture<AuthResult> f : results) {
        assertThat(f.get(20, TimeUnit.SECONDS))
            .isEqualTo(new AuthResult.Authorized("acme", "key-acme"));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(warden.calls()).isEqualTo(1);
    assertThat(count("trellis.auth.warden.cache", "result", "miss")).isEqualTo(1);
    assertThat(count("trellis.auth.warden.cache", "result", "joined")).isEqualTo(n - 1);
  }

  @Test
  void differentKeysAreVerifiedSeparately() {
    warden.grant(KEY, "acme").grant(OTHER, "globex");

    assertThat(resolve(KEY)).isEqualTo(new AuthResult.Authorized("acme", "key-acme"));
    assertThat(resolve(OTHER)).isEqualTo(new AuthResult.Authorized("globex", "key-globex"));
    assertThat(warden.calls()).isEqualTo(2);
  }

  @Test
  void malformedKeysAreRefusedWithoutCallingWarden() {
    assertThat(resolve("two words")).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(resolve("line\r\nX-Injected: 1")).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(resolve("k".repeat(600))).isInstanceOf(AuthResult.Unauthorized.class);
    assertThat(warden.calls()).isZero();
  }

  @Test
  void summaryNamesWardenButNoKey() {
    warden.grant(KEY, "acme");
    resolve(KEY);

    assertThat(resolver.toString()).contains(warden.url()).doesNotContain(KEY);
    assertThat(meters.getMeters())
        .allSatisfy(
            m -> assertThat(m.getId().toString()).doesNotContain(KEY).doesNotContain("acme"));
  }

  private void awaitVerdict(String key, Class<? extends AuthResult> type) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    AuthResult r = resolve(key);
    while (!type.isInstance(r)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("verdict stayed " + r);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      r = resolve(key);
    }
  }
}
