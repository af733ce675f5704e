package io.trellis.ingress.event;

import static java.util.Objects.requireNonNull;

/**
 * One captured event: everything the request carried plus the fields extracted from it. This is the
 * unit the spool stores and every sink writes, one row per event.
 *
 * <p>{@code headers} and {@code queryParams} are JSON object text; {@code body} is the request body
 * (or, for a batch, the item) exactly as received, minus credentials. When the body's bytes were
 * not valid UTF-8, {@code body} holds them decoded with each bad sequence replaced by U+FFFD, and
 * {@code bodyBase64} the exact bytes (credentials replaced the same way), base64; otherwise {@code
 * bodyBase64} is empty. Strings are never null: a field that is absent is the empty string. {@code
 * timestamp} is the receipt time in epoch milliseconds (UTC). Credentials never reach this object.
 */
public record TrafficEvent(
    String organizationId,
    String eventId,
    long timestamp,
    String method,
    String url,
    String headers,
    String queryParams,
    String body,
    String ip,
    String userAgent,
    String referer,
    String eventType,
    String clickId,
    String sessionId,
    String source,
    String medium,
    String campaign,
    String bodyBase64) {

  /** An event whose body was valid text: no exact bytes to keep beside it. */
  public TrafficEvent(
      String organizationId,
      String eventId,
      long timestamp,
      String method,
      String url,
      String headers,
      String queryParams,
      String body,
      String ip,
      String userAgent,
      String referer,
      String eventType,
      String clickId,
      String sessionId,
      String source,
      String medium,
      String campaign) {
    this(
        organizationId,
        eventId,
        timestamp,
        method,
        url,
        headers,
        queryParams,
        body,
        ip,
        userAgent,
        referer,
        eventType,
        clickId,
        sessionId,
        source,
        medium,
        campaign,
        "");
  }

  public TrafficEvent {
    requireNonNull(organizationId, "organizationId is null");
    requireNonNull(eventId, "eventId is null");
    method = orEmpty(method);
    url = orEmpty(url);
    headers = headers == null || headers.isEmpty() ? "{}" : headers;
    queryParams = queryParams == null || queryParams.isEmpty() ? "{}" : queryParams;
    body = orEmpty(body);
    ip = orEmpty(ip);
    userAgent = orEmpty(userAgent);
    referer = orEmpty(referer);
    eventType = orEmpty(eventType);
    clickId = orEmpty(clickId);
    sessionId = orEmpty(sessionId);
    source = orEmpty(source);
    medium = orEmpty(medium);
    campaign = orEmpty(campaign);
    bodyBase64 = orEmpty(bodyBase64);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** A summary without request data, for logs. */
  @Override
  public String toString() {
    return "TrafficEvent{org=" + organizationId + ", id=" + eventId + ", type=" + eventType + "}";
  }
}
