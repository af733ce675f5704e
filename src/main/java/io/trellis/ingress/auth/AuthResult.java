package io.trellis.ingress.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** The verdict on an API key. Carries no secret. */
public sealed interface AuthResult {

  /**
   * The key is valid for ingestion into this organization.
   *
   * @param relay whether events sent with the key may set their client IP and user agent from what
   *     a server-side SDK relays (the browser's, in {@code context.ip}, {@code $ip}, …)
   */
  record Authorized(String organizationId, String keyId, boolean relay) implements AuthResult {
    public Authorized {
      requireNonNull(organizationId, "organizationId is null");
      requireNonNull(keyId, "keyId is null");
    }

    /** A key that may not relay client data. */
    public Authorized(String organizationId, String keyId) {
      this(organizationId, keyId, false);
    }
  }

  /** Unknown, malformed or revoked key (401). */
  record Unauthorized(String reason) implements AuthResult {}

  /** A valid key that may not ingest (403). */
  record Forbidden(String reason) implements AuthResult {}

  /**
   * The key cannot be verified now (503 with Retry-After); nothing is stored.
   *
   * @param keyFault whether the failure concerns this key alone (Warden answered it with a 400, an
   *     unreadable 200 or not in time) rather than an outage; such a request counts against the
   *     sender's auth-failure budget
   */
  record Unavailable(String reason, Duration retryAfter, boolean keyFault) implements AuthResult {
    /** An outage: no key's fault. */
    public Unavailable(String reason, Duration retryAfter) {
      this(reason, retryAfter, false);
    }
  }

  /**
   * The key would need a call to Warden, but the sender's auth-failure budget is spent (429 with
   * Retry-After); Warden is not called.
   */
  record Throttled(Duration retryAfter) implements AuthResult {}
}
