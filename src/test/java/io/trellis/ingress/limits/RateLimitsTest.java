package io.trellis.ingress.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.cli.ServiceSettings;
import io.trellis.ingress.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimitsTest {
  private final AtomicLong clock = new AtomicLong();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private RateLimits limits(Map<String, String> settings) {
    return new RateLimits(
        RateLimitConfig.from(ServiceSettings.config(settings)), meters, clock::get);
  }

  private void advance(Duration d) {
    clock.addAndGet(d.toNanos());
  }

  @Test
  void organizationsAreUnlimitedByDefault() {
    RateLimits l = limits(Map.of());
    for (int i = 0; i < 10_000; i++) {
      assertThat(l.admit("acme", 100)).isZero();
    }
  }

  @Test
  void organizationGetsItsBurstThenItsRate() {
    RateLimits l = limits(Map.of("limits.org.rate", "10", "limits.org.burst", "20"));

    for (int i = 0; i < 20; i++) {
      assertThat(l.admit("acme", 1)).as("event %d", i).isZero();
    }
    assertThat(l.admit("acme", 1)).isEqualTo(1); // Retry-After: one second

    advance(Duration.ofMillis(500)); // refills 5 events
    for (int i = 0; i < 5; i++) {
      assertThat(l.admit("acme", 1)).isZero();
    }
    assertThat(l.admit("acme", 1)).isPositive();
    assertThat(
            meters
                .find("trellis.limits.rejected")
                .tag("limit", "organization_rate")
                .counter()
                .count())
        .isEqualTo(2);
  }

  @Test
  void oneOrganizationOverItsRateDoesNotSlowAnother() {
    RateLimits l = limits(Map.of("limits.org.rate", "5"));
    while (l.admit("noisy", 1) == 0) {
      // spend noisy's bucket
    }

    for (int i = 0; i < 5; i++) {
      assertThat(l.admit("quiet", 1)).isZero();
    }
  }

  @Test
  void batchLargerThanTheBurstPassesOnAFullBucketAndIsPaidBack() {
    RateLimits l = limits(Map.of("limits.org.rate", "100", "limits.org.burst", "100"));

    assertThat(l.admit("acme", 500)).isZero(); // full bucket: allowed, 400 events in debt
    long wait = l.admit("acme", 1);
    assertThat(wait).isEqualTo(5); // (400 + 1) / 100 per second, rounded up

    advance(Duration.ofSeconds(5));
    assertThat(l.admit("acme", 1)).isZero();
  }

  @Test
  void overridesGiveOrganizationsTheirOwnRatesOrNone() {
    RateLimits l =
        limits(
            Map.of(
                "limits.org.rate", "1",
                "limits.org.overrides", "big=1000:5000, free=off, tiny=2"));

    assertThat(l.admit("big", 5000)).isZero();
    assertThat(l.admit("big", 1)).isPositive();
    for (int i = 0; i < 1000; i++) {
      assertThat(l.admit("free", 50)).isZero();
    }
    assertThat(l.admit("tiny", 2)).isZero();
    assertThat(l.admit("tiny", 1)).isPositive();
    assertThat(l.admit("other", 1)).isZero();
    assertThat(l.admit("other", 1)).isPositive();
  }

  @Test
  void badOverridesFailWithTheKeyNamed() {
    for (String bad : new String[] {"acme", "acme=fast", "=5", "acme=5:x", "a/b=5"}) {
      assertThatThrownBy(
              () ->
                  RateLimitConfig.from(ServiceSettings.config(Map.of("limits.org.overrides", bad))))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("limits.org.overrides");
    }
  }

  @Test
  void clientAddressIsBlockedAfterItsFailedAuthenticationsUntilTheyRefill() {
    RateLimits l =
        limits(Map.of("limits.auth-failures.burst", "3", "limits.auth-failures.per-minute", "6"));

    for (int i = 0; i < 3; i++) {
      assertThat(l.clientRetryAfter("198.51.100.7")).isZero();
      l.authenticationFailed("198.51.100.7");
    }
    assertThat(l.clientRetryAfter("198.51.100.7")).isEqualTo(10); // 6 per minute: one per 10 s
    assertThat(l.clientRetryAfter("203.0.113.9")).isZero(); // other addresses are not affected

    advance(Duration.ofSeconds(10));
    assertThat(l.clientRetryAfter("198.51.100.7")).isZero();
    l.authenticationFailed("198.51.100.7");
    assertThat(l.clientRetryAfter("198.51.100.7")).isPositive();
  }

  @Test
  void failuresFromConcurrentRequestsAllCount() {
    RateLimits l =
        limits(Map.of("limits.auth-failures.burst", "5", "limits.auth-failures.per-minute", "60"));
    // 50 guesses that all passed the check before any failure was recorded.
    for (int i = 0; i < 50; i++) {
      l.authenticationFailed("198.51.100.7");
    }

    assertThat(l.clientRetryAfter("198.51.100.7")).isEqualTo(46); // 45 in debt + 1, at 1 per s
  }

  @Test
  void failedAuthenticationLimitCanBeTurnedOff() {
    RateLimits l = limits(Map.of("limits.auth-failures.per-minute", "0"));
    for (int i = 0; i < 1000; i++) {
      l.authenticationFailed("198.51.100.7");
    }
    assertThat(l.clientRetryAfter("198.51.100.7")).isZero();
  }
}
