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

  /** The key cannot be verified now (503 with Retry-After); nothing is stored. */
  record Unavailable(String reason, Duration retryAfter) implements AuthResult {}
}
