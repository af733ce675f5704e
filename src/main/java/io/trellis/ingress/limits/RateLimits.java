package io.trellis.ingress.limits;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.auth.AuthAttempt;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The request path's rate limits, each a token bucket:
 *
 * <ul>
 *   <li>per organization, in events (a batch costs its number of events), so one organization
 *       cannot take the capacity all others share;
 *   <li>per client address, in failed authentications, so keys cannot be guessed quickly: once an
 *       address has spent its failures, every request from it gets 429 before its key is looked at,
 *       whatever the key.
 * </ul>
 *
 * Methods return 0 when the request may go on, or the seconds the client should wait (its
 * Retry-After). Limits hold per process: N nodes behind a balancer admit up to N times the rate.
 * Buckets idle for an hour are forgotten. Thread-safe.
 */
public final class RateLimits {
  private static final Duration IDLE = Duration.ofHours(1);
  private static final int MAX_TRACKED = 100_000;

  private final RateLimitConfig config;
  private final Ticker ticker;
  private final Cache<String, TokenBucket> organizations;
  private final Cache<String, TokenBucket> clients;
  private final Counter organizationRejected;
  private final Counter clientRejected;
  private final Counter authFailures;

  public RateLimits(RateLimitConfig config, MeterRegistry registry) {
    this(config, registry, Ticker.systemTicker());
  }

  RateLimits(RateLimitConfig config, MeterRegistry registry, Ticker ticker) {
    this.config = requireNonNull(config, "config is null");
    this.ticker = requireNonNull(ticker, "ticker is null");
    requireNonNull(registry, "registry is null");
    this.organizations = buckets(ticker);
    this.clients = buckets(ticker);
    this.organizationRejected = rejected(registry, "organization_rate");
    this.clientRejected = rejected(registry, "auth_failures");
    this.authFailures =
        Counter.builder("trellis.auth.failures")
            .description(
                "Requests refused because their API key was unknown, revoked or lacked"
                    + " the ingest scope")
            .register(registry);
  }

  private static Cache<String, TokenBucket> buckets(Ticker ticker) {
    return Caffeine.newBuilder()
        .maximumSize(MAX_TRACKED)
        .expireAfterAccess(IDLE)
        .ticker(ticker)
        .build();
  }

  private static Counter rejected(MeterRegistry registry, String limit) {
    return Counter.builder("trellis.limits.rejected")
        .description("Requests answered 429, by the limit they hit")
        .tag("limit", limit)
        .register(registry);
  }

  /** Before authentication: 0, or how long this client address must wait after its failures. */
  public long clientRetryAfter(String clientIp) {
    if (config.authFailuresPerMinute() == 0) {
      return 0;
    }
    TokenBucket b = clients.getIfPresent(clientIp);
    long wait = b == null ? 0 : b.nanosUntil(1, ticker.read());
    if (wait > 0) {
      clientRejected.increment();
    }
    return seconds(wait);
  }

  /** A request from this address presented a key that is not valid for ingestion. */
  public void authenticationFailed(String clientIp) {
    authFailures.increment();
    if (config.authFailuresPerMinute() == 0) {
      return;
    }
    long now = ticker.read();
    bucket(clientIp, now).take(1, now);
  }

  /**
   * One key resolution by a request from this address: the resolver may reserve a failure before
   * calling Warden (atomically, so N concurrent unknown keys from one address start at most {@code
   * burst} calls); {@link Attempt#settle} then counts the failure or returns the reservation.
   */
  public Attempt attempt(String clientIp) {
    return new Attempt(requireNonNull(clientIp, "clientIp is null"));
  }

  /** See {@link #attempt}. Used by one request; thread-safe. */
  public final class Attempt implements AuthAttempt {
    private final String clientIp;
    private final AtomicBoolean reserved = new AtomicBoolean();

    private Attempt(String clientIp) {
      this.clientIp = clientIp;
    }

    @Override
    public long reserve() {
      if (config.authFailuresPerMinute() == 0 || reserved.get()) {
        return 0;
      }
      long now = ticker.read();
      long wait = bucket(clientIp, now).tryTake(1, now);
      if (wait > 0) {
        clientRejected.increment();
        return seconds(wait);
      }
      reserved.set(true);
      return 0;
    }

    /** The verdict is known: {@code failed} when it counts against the address. */
    public void settle(boolean failed) {
      boolean held = reserved.getAndSet(false);
      if (failed && held) {
        authFailures.increment();
      } else if (failed) {
        authenticationFailed(clientIp);
      } else if (held) {
        long now = ticker.read();
        bucket(clientIp, now).give(1, now);
      }
    }
  }

  private TokenBucket bucket(String clientIp, long now) {
    return clients.get(
        clientIp,
        ip ->
            new TokenBucket(
                config.authFailuresPerMinute() / 60.0, config.authFailuresBurst(), now));
  }

  /** After authentication: 0 when the organization may store {@code events} more events now. */
  public long admit(String organizationId, int events) {
    Rate rate = config.rateOf(organizationId);
    if (rate.unlimited()) {
      return 0;
    }
    long now = ticker.read();
    long wait =
        organizations
            .get(organizationId, org -> new TokenBucket(rate.perSecond(), rate.burst(), now))
            .tryTake(events, now);
    if (wait > 0) {
      organizationRejected.increment();
    }
    return seconds(wait);
  }

  private static long seconds(long nanos) {
    return nanos <= 0 ? 0 : Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
  }

  @Override
  public String toString() {
    return "RateLimits{organizations="
        + config.organizationDefault()
        + ", overrides="
        + config.organizationOverrides().size()
        + ", authFailuresPerMinute="
        + config.authFailuresPerMinute()
        + "}";
  }
}
