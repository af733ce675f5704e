package io.trellis.ingress.auth;

import java.util.concurrent.CompletionStage;

/**
 * Resolves an API key to the organization that owns it. Implementations: the local key store and
 * the remote Warden service. Never blocks the caller (called on event-loop threads); never logs or
 * keeps the key in clear.
 */
public interface KeyResolver extends AutoCloseable {

  CompletionStage<AuthResult> resolve(String apiKey);

  /**
   * Resolves the key; a resolver that calls a remote service for a key it does not know reserves
   * the call from {@code attempt} first and answers {@link AuthResult.Throttled} when it cannot.
   */
  default CompletionStage<AuthResult> resolve(String apiKey, AuthAttempt attempt) {
    return resolve(apiKey);
  }

  @Override
  default void close() {}
}
