package io.trellis.ingress.auth;

/**
 * The sender's side of one key resolution: a resolver that must ask a remote service about a key it
 * does not know reserves one failure from the sender's auth-failure budget first, so that many
 * concurrent requests with unknown keys cannot all reach that service before their failures are
 * counted. The caller settles the reservation once the verdict is known (kept for a failure,
 * returned for a valid key).
 */
public interface AuthAttempt {
  /** Never refuses: for callers without a budget. */
  AuthAttempt UNLIMITED = () -> 0;

  /** Reserves one failure: 0 when reserved, else the seconds until the budget allows one. */
  long reserve();
}
