package io.trellis.ingress.http;

/**
 * An error answer: status, a stable machine-readable code and a message that tells the client what
 * to do. Serialized as {@code {"status":"error","error":CODE,"message":MESSAGE}}.
 */
public record HttpError(int status, String code, String message, long retryAfterSeconds) {

  public HttpError(int status, String code, String message) {
    this(status, code, message, 0);
  }

  public static HttpError badRequest(String message) {
    return new HttpError(400, "bad_request", message);
  }

  public static HttpError unauthorized(String message) {
    return new HttpError(401, "unauthorized", message);
  }

  public static HttpError tooLarge(String message) {
    return new HttpError(413, "payload_too_large", message);
  }

  public static HttpError rateLimited(String message, long retryAfterSeconds) {
    return new HttpError(429, "rate_limited", message, retryAfterSeconds);
  }

  public static HttpError unsupported(String code, String message) {
    return new HttpError(415, code, message);
  }

  public static HttpError unavailable(String message, long retryAfterSeconds) {
    return new HttpError(503, "unavailable", message, retryAfterSeconds);
  }
}
