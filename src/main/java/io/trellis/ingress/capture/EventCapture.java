package io.trellis.ingress.capture;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a request into {@link TrafficEvent}s: keeps everything the request carried, extracts the
 * common fields (event type, click id, session, UTM), and removes credentials. Knows nothing of the
 * HTTP framework. Thread-safe (immutable).
 *
 * <p>Work shared by all events of one request (headers, query, URL, IP) is done once in {@link
 * #request}; {@link #event} then adds one body.
 */
public final class EventCapture {
  /** Replaces an API key found anywhere in stored text. */
  public static final String REDACTED = "[redacted]";

  private static final Set<String> CREDENTIAL_HEADERS =
      Set.of("authorization", "proxy-authorization", "x-api-key");
  private static final Set<String> CREDENTIAL_PARAMS = Set.of("api_key", "writeKey");
  private static final List<String> BODY_EVENT_TYPE = List.of("event_type", "event", "type");
  private static final List<String> QUERY_EVENT_TYPE = List.of("event_type", "event");
  private static final List<String> SESSION = List.of("session_id", "sessionId", "sid");
  private static final List<String> PAGE_URL = List.of("url", "page_url", "page");
  private static final List<String> EVENT_ID = List.of("event_id", "messageId");

  private final IpRanges trustedProxies;
  private final Set<String> secretHeaders;
  private final Set<String> secretParams;

  public EventCapture(CaptureConfig config) {
    requireNonNull(config, "config is null");
    this.trustedProxies = IpRanges.parse(config.trustedProxies());
    Set<String> h = new HashSet<>(CREDENTIAL_HEADERS);
    h.addAll(config.secretHeaders());
    this.secretHeaders = Set.copyOf(h);
    Set<String> p = new HashSet<>(CREDENTIAL_PARAMS);
    p.addAll(config.secretParams());
    this.secretParams = Set.copyOf(p);
  }

  /** What every event of one request shares, credentials already removed. */
  public record SharedRequest(
      long receivedAt,
      String method,
      String url,
      String headers,
      String queryParams,
      String ip,
      String userAgent,
      String referer,
      String sessionHeader,
      RequestData request,
      String apiKey) {
    @Override
    public String toString() {
      return "SharedRequest{" + method + " " + url + "}";
    }
  }

  /** Prepares the parts of a request that all its events share. */
  public SharedRequest request(RequestData req, String apiKey) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : req.headers()) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!secretHeaders.contains(name)) {
        headers.computeIfAbsent(name, k -> new ArrayList<>(1)).add(e.getValue());
      }
    }
    Map<String, List<String>> joined = new LinkedHashMap<>();
    headers.forEach(
        (name, values) ->
            joined.put(name, List.of(String.join(name.equals("cookie") ? "; " : ", ", values))));
    Map<String, List<String>> query = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : req.query()) {
      if (!secretParams.contains(e.getKey())) {
        query.computeIfAbsent(e.getKey(), k -> new ArrayList<>(1)).add(e.getValue());
      }
    }
    String key = apiKey != null && apiKey.length() >= 8 ? apiKey : null;
    return new SharedRequest(
        req.receivedAt(),
        req.method(),
        scrub(withoutParams(req.url(), secretParams), key),
        scrub(JsonText.object(joined), key),
        scrub(JsonText.object(query), key),
        clientIp(req),
        scrub(req.header("user-agent"), key),
        scrub(req.header("referer"), key),
        scrub(req.header("x-session-id"), key),
        req,
        key);
  }

  /**
   * One event of the request.
   *
   * @param body the raw body (or batch item) as received; stored as is, minus the API key
   * @param json the body parsed, when it is a JSON object; null otherwise
   */
  public TrafficEvent event(
      SharedRequest s, String organizationId, Endpoint endpoint, String body, ObjectNode json) {
    RequestData req = s.request();
    Map<String, String> pageQuery = pageQuery(json);

    String eventType = first(json, BODY_EVENT_TYPE);
    if (eventType == null) {
      eventType = firstParam(req, QUERY_EVENT_TYPE);
    }
    if (eventType == null) {
      eventType = endpoint.defaultEventType();
    }

    String clickId = clickId(json, req, pageQuery);

    String session = first(json, SESSION);
    if (session == null) {
      session = firstParam(req, SESSION);
    }
    if (session == null) {
      session = s.sessionHeader();
    }

    String eventId = null;
    if (json != null) {
      for (String f : EVENT_ID) {
        eventId = Uuids.canonical(text(json.get(f)));
        if (eventId != null) {
          break;
        }
      }
    }
    if (eventId == null) {
      eventId = Uuids.v7(s.receivedAt()).toString();
    }

    String key = s.apiKey();
    return new TrafficEvent(
        organizationId,
        eventId,
        s.receivedAt(),
        s.method(),
        s.url(),
        s.headers(),
        s.queryParams(),
        scrub(body, key),
        s.ip(),
        s.userAgent(),
        s.referer(),
        scrub(eventType, key),
        scrub(clickId, key),
        scrub(session, key),
        scrub(utm(json, req, pageQuery, "source"), key),
        scrub(utm(json, req, pageQuery, "medium"), key),
        scrub(utm(json, req, pageQuery, "campaign"), key));
  }

  private static String clickId(ObjectNode json, RequestData req, Map<String, String> pageQuery) {
    for (List<String> names : List.of(ClickIds.GENERIC, ClickIds.PLATFORMS)) {
      String v = first(json, names);
      if (v == null) {
        v = firstParam(req, names);
      }
      if (v == null) {
        for (String n : names) {
          v = pageQuery.get(n);
          if (v != null && !v.isEmpty()) {
            break;
          }
          v = null;
        }
      }
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  private static String utm(
      ObjectNode json, RequestData req, Map<String, String> pageQuery, String name) {
    List<String> names = List.of("utm_" + name, name);
    String v = first(json, names);
    if (v == null) {
      v = firstParam(req, names);
    }
    if (v == null) {
      v = pageQuery.get("utm_" + name);
    }
    return v;
  }

  private static Map<String, String> pageQuery(ObjectNode json) {
    String url = first(json, PAGE_URL);
    if (url == null) {
      return Map.of();
    }
    int q = url.indexOf('?');
    if (q < 0) {
      return Map.of();
    }
    int hash = url.indexOf('#', q);
    String query = hash < 0 ? url.substring(q + 1) : url.substring(q + 1, hash);
    Map<String, String> out = new LinkedHashMap<>();
    for (String part : query.split("&")) {
      int eq = part.indexOf('=');
      String name = decode(eq < 0 ? part : part.substring(0, eq));
      String value = eq < 0 ? "" : decode(part.substring(eq + 1));
      out.putIfAbsent(name, value);
    }
    return out;
  }

  private static String first(ObjectNode json, List<String> names) {
    if (json == null) {
      return null;
    }
    for (String n : names) {
      String v = text(json.get(n));
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  private static String firstParam(RequestData req, List<String> names) {
    for (String n : names) {
      String v = req.param(n);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  private static String text(JsonNode n) {
    return n != null && n.isValueNode() && !n.isNull() ? n.asText() : null;
  }

  /** The client's address: the peer, or what a trusted proxy in front of it says. */
  public String clientIp(RequestData req) {
    String peer = req.peerIp();
    if (!trustedProxies.contains(peer)) {
      return peer;
    }
    String xff = req.header("x-forwarded-for");
    if (xff != null) {
      String[] hops = xff.split(",");
      // The rightmost hop not operated by a trusted proxy is the client.
      for (int i = hops.length - 1; i >= 0; i--) {
        String hop = hops[i].trim();
        if (!hop.isEmpty() && !trustedProxies.contains(hop)) {
          return IpRanges.literal(hop) != null ? hop : peer;
        }
      }
    }
    String forwarded = req.header("forwarded");
    if (forwarded != null) {
      String[] elements = forwarded.split(",");
      for (int i = elements.length - 1; i >= 0; i--) {
        for (String pair : elements[i].split(";")) {
          String p = pair.trim();
          if (p.regionMatches(true, 0, "for=", 0, 4)) {
            String v = p.substring(4).replace("\"", "");
            if (v.startsWith("[")) {
              v = v.substring(1, v.indexOf(']') > 0 ? v.indexOf(']') : v.length());
            } else if (v.indexOf(':') > 0 && v.indexOf(':') == v.lastIndexOf(':')) {
              v = v.substring(0, v.indexOf(':'));
            }
            if (IpRanges.literal(v) != null && !trustedProxies.contains(v)) {
              return v;
            }
          }
        }
      }
    }
    String real = req.header("x-real-ip");
    if (real != null && IpRanges.literal(real.trim()) != null) {
      return real.trim();
    }
    return peer;
  }

  /** The URL with the named query parameters removed; everything else kept byte for byte. */
  static String withoutParams(String url, Set<String> names) {
    int q = url.indexOf('?');
    if (q < 0) {
      return url;
    }
    int hash = url.indexOf('#', q);
    String query = hash < 0 ? url.substring(q + 1) : url.substring(q + 1, hash);
    StringBuilder kept = new StringBuilder(query.length());
    boolean removed = false;
    for (String part : query.split("&", -1)) {
      int eq = part.indexOf('=');
      String name = decode(eq < 0 ? part : part.substring(0, eq));
      if (names.contains(name)) {
        removed = true;
        continue;
      }
      if (kept.length() > 0) {
        kept.append('&');
      }
      kept.append(part);
    }
    if (!removed) {
      return url;
    }
    String base = url.substring(0, q);
    String fragment = hash < 0 ? "" : url.substring(hash);
    return kept.length() == 0 ? base + fragment : base + "?" + kept + fragment;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  private static String scrub(String text, String key) {
    if (text == null || key == null || text.indexOf(key) < 0) {
      return text;
    }
    return text.replace(key, REDACTED);
  }
}
