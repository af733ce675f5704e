package io.trellis.ingress.auth.warden;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.trellis.ingress.auth.AuthResult;
import java.util.function.Supplier;

/**
 * The resolver's counters. Tags name outcomes only; a key, its digest or its organization never
 * becomes a tag.
 */
final class WardenStats {
  private final Counter callsValid;
  private final Counter callsInvalid;
  private final Counter callsForbidden;
  private final Counter callsUnavailable;
  private final Counter callsKeyFailure;
  private final Counter cacheHit;
  private final Counter cacheMiss;
  private final Counter cacheJoined;
  private final Counter refreshes;
  private final Counter staleServed;
  private final Counter unverifiable;

  WardenStats(MeterRegistry registry, Supplier<Number> cacheSize) {
    callsValid = call(registry, "valid");
    callsInvalid = call(registry, "invalid");
    callsForbidden = call(registry, "forbidden");
    callsUnavailable = call(registry, "unavailable");
    callsKeyFailure = call(registry, "key_failure");
    cacheHit = cache(registry, "hit");
    cacheMiss = cache(registry, "miss");
    cacheJoined = cache(registry, "joined");
    refreshes =
        Counter.builder("trellis.auth.warden.refreshes")
            .description("Background re-verifications of cached keys before their verdict expires")
            .register(registry);
    staleServed =
        Counter.builder("trellis.auth.warden.stale")
            .description("Requests authorized by an expired verdict while Warden was unavailable")
            .register(registry);
    unverifiable =
        Counter.builder("trellis.auth.warden.unverifiable")
            .description(
                "Requests answered 503 because Warden was unavailable and no verdict known")
            .register(registry);
    registry.gauge("trellis.auth.warden.cache.size", cacheSize, s -> s.get().doubleValue());
  }

  private static Counter call(MeterRegistry registry, String outcome) {
    return Counter.builder("trellis.auth.warden.calls")
        .description("Calls of Warden's verify endpoint, by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }

  private static Counter cache(MeterRegistry registry, String result) {
    return Counter.builder("trellis.auth.warden.cache")
        .description(
            "Key lookups: hit (fresh verdict), miss (called Warden), joined (waited on"
                + " a call already in flight)")
        .tag("result", result)
        .register(registry);
  }

  void called(AuthResult result) {
    if (result instanceof AuthResult.Authorized) {
      callsValid.increment();
    } else if (result instanceof AuthResult.Forbidden) {
      callsForbidden.increment();
    } else if (result instanceof AuthResult.Unavailable u && u.keyFault()) {
      callsKeyFailure.increment();
    } else if (result instanceof AuthResult.Unavailable) {
      callsUnavailable.increment();
    } else {
      callsInvalid.increment();
    }
  }

  void hit() {
    cacheHit.increment();
  }

  void miss() {
    cacheMiss.increment();
  }

  void joined() {
    cacheJoined.increment();
  }

  void refresh() {
    refreshes.increment();
  }

  void stale() {
    staleServed.increment();
  }

  void unverifiable() {
    unverifiable.increment();
  }

  /** Requests accepted with a stale verdict so far; for the outage summary. */
  long staleCount() {
    return (long) staleServed.count();
  }

  /** Requests answered 503 because no verdict could be had so far; for the outage summary. */
  long unverifiableCount() {
    return (long) unverifiable.count();
  }
}
