package io.trellis.ingress.auth;

import java.util.concurrent.CompletionStage;

/**
 * Resolves an API key to the organization that owns it. Implementations: the local key store and
 * the remote Warden service. Never blocks the caller (called on event-loop threads); never logs or
 * keeps the key in clear.
 */
public interface KeyResolver extends AutoCloseable {

  CompletionStage<AuthResult> resolve(String apiKey);

  @Override
  default void close() {}
}
