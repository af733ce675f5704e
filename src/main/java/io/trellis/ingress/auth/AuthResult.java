package io.trellis.ingress.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** The verdict on an API key. Carries no secret. */
public sealed interface AuthResult {

  /** The key is valid for ingestion into this organization. */
  record Authorized(String organizationId, String keyId) implements AuthResult {
    public Authorized {
      requireNonNull(organizationId, "organizationId is null");
      requireNonNull(keyId, "keyId is null");
    }
  }

  /** Unknown, malformed or revoked key (401). */
  record Unauthorized(String reason) implements AuthResult {}

  /** A valid key that may not ingest (403). */
  record Forbidden(String reason) implements AuthResult {}

  /** The key cannot be verified now (503 with Retry-After); nothing is stored. */
  record Unavailable(String reason, Duration retryAfter) implements AuthResult {}
}
