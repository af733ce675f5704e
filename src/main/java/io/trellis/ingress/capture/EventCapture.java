package io.trellis.ingress.capture;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.base.JsonText;
import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.EventCodec.Field;
import io.trellis.ingress.event.TrafficEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
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
  private static final JsonFields.Names BODY_EVENT_TYPE =
      JsonFields.names(List.of("event_type", "event", "type"));
  private static final JsonFields.Names QUERY_EVENT_TYPE =
      JsonFields.names(List.of("event_type", "event"));
  private static final JsonFields.Names SESSION =
      JsonFields.names(List.of("session_id", "sessionId", "sid"));
  private static final JsonFields.Names PAGE_URL =
      JsonFields.names(List.of("url", "page_url", "page"));
  private static final List<String> EVENT_ID = List.of("event_id", "messageId", "uuid", "eid");

  /**
   * The header that keeps the socket's client address when a key may relay the browser's address in
   * the event (a server-side SDK's {@code context.ip}, {@code $ip}, {@code ip}). Reserved: a header
   * of that name sent by such a client is replaced.
   */
  public static final String SOCKET_IP_HEADER = "x-trellis-socket-ip";

  private static final JsonFields.Names UTM_SOURCE =
      JsonFields.names(List.of("utm_source", "source"));
  private static final JsonFields.Names UTM_MEDIUM =
      JsonFields.names(List.of("utm_medium", "medium"));
  private static final JsonFields.Names UTM_CAMPAIGN =
      JsonFields.names(List.of("utm_campaign", "campaign"));

  private static final List<JsonFields.Names> CLICK_ID_NAMES =
      List.of(JsonFields.names(ClickIds.GENERIC), JsonFields.names(ClickIds.PLATFORMS));

  private final IpRanges trustedProxies;
  private final Set<String> secretHeaders;
  /* The secret header names a lower-cased ASCII name can equal (ASCII, lower case already). */
  private final String[] secretHeaderNames;
  private final Set<String> secretParams;
  private final CaptureConfig config;

  public EventCapture(CaptureConfig config) {
    requireNonNull(config, "config is null");
    this.config = config;
    this.trustedProxies = IpRanges.parse(config.trustedProxies());
    Set<String> h = new HashSet<>(CREDENTIAL_HEADERS);
    h.addAll(config.secretHeaders());
    this.secretHeaders = Set.copyOf(h);
    this.secretHeaderNames =
        secretHeaders.stream()
            .filter(name -> name.chars().allMatch(c -> c <= 0x7f))
            .filter(name -> name.equals(name.toLowerCase(Locale.ROOT)))
            .toArray(String[]::new);
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
      JsonFields.Params params,
      KeyRedactor redactor,
      boolean relay,
      boolean anonymizeIp) {
    @Override
    public String toString() {
      return "SharedRequest{" + method + " " + url + "}";
    }
  }

  /** Prepares the parts of a request that all its events share. */
  public SharedRequest request(RequestData req, String apiKey) {
    return request(req, apiKey, false);
  }

  /**
   * Prepares the parts of a request that all its events share.
   *
   * @param relay whether the key's organization may set the event's client IP and user agent from
   *     what a server-side SDK relays; the socket's address is then kept in the {@value
   *     #SOCKET_IP_HEADER} header
   */
  public SharedRequest request(RequestData req, String apiKey, boolean relay) {
    return request(req, apiKey, relay, null);
  }

  /**
   * Prepares the parts of a request that all its events share, for the key's organization: when
   * {@link CaptureConfig#anonymizesIp} says so, the client address is anonymized here, before
   * anything stores or logs it.
   */
  public SharedRequest request(
      RequestData req, String apiKey, boolean relay, String organizationId) {
    KeyRedactor key = KeyRedactor.of(apiKey != null && apiKey.length() >= 8 ? apiKey : null);
    boolean anonymize = config.anonymizesIp(organizationId);
    String ip = clientIp(req);
    List<Map.Entry<String, String>> headers = req.headers();
    String url = req.url();
    List<Map.Entry<String, String>> query = req.query();
    if (anonymize) {
      ip = IpAnonymizer.anonymizeOrEmpty(ip);
      headers = anonymizedHeaders(headers);
      url = RelayedAddresses.url(url);
      query = RelayedAddresses.query(query);
    }
    return new SharedRequest(
        req.receivedAt(),
        req.method(),
        scrub(withoutParams(url, secretParams), key),
        scrub(relay ? headersJson(headers, ip) : headersJson(headers), key),
        scrub(queryJson(query), key),
        ip,
        scrub(req.header("user-agent"), key),
        scrub(req.header("referer"), key),
        scrub(req.header("x-session-id"), key),
        req,
        JsonFields.firstParams(req.query()),
        key,
        relay,
        anonymize);
  }

  /** The headers with every address in the address headers anonymized. */
  private static List<Map.Entry<String, String>> anonymizedHeaders(
      List<Map.Entry<String, String>> headers) {
    List<Map.Entry<String, String>> out = new ArrayList<>(headers.size());
    for (Map.Entry<String, String> h : headers) {
      if (IpAnonymizer.ADDRESS_HEADERS.contains(lowerCase(h.getKey()))) {
        out.add(Map.entry(h.getKey(), IpAnonymizer.anonymizeAll(h.getValue())));
      } else {
        out.add(h);
      }
    }
    return out;
  }

  /** The headers with the socket's address added under {@link #SOCKET_IP_HEADER}. */
  String headersJson(List<Map.Entry<String, String>> headers, String socketIp) {
    List<Map.Entry<String, String>> kept = new ArrayList<>(headers.size() + 1);
    for (Map.Entry<String, String> h : headers) {
      if (!h.getKey().equalsIgnoreCase(SOCKET_IP_HEADER)) {
        kept.add(h);
      }
    }
    kept.add(Map.entry(SOCKET_IP_HEADER, socketIp));
    return headersJson(kept);
  }

  /**
   * The headers as one JSON object: lower-case names in order of first appearance, a repeated
   * header's values joined with ", " ("; " for cookies), secret headers left out. Written straight
   * into the text, without intermediate maps: this runs once per request.
   */
  String headersJson(List<Map.Entry<String, String>> headers) {
    int n = headers.size();
    if (n > SCAN_LIMIT) {
      return headersJsonMapped(headers);
    }
    if (asciiNames(headers)) {
      return headersJsonAscii(headers);
    }
    // Each name lower-cased once; the scans below then compare with equals().
    String[] names = new String[n];
    for (int i = 0; i < n; i++) {
      names[i] = lowerCase(headers.get(i).getKey());
    }
    StringBuilder sb = new StringBuilder(64 + n * 64).append('{');
    for (int i = 0; i < n; i++) {
      String name = names[i];
      if (secretHeaders.contains(name) || seenBefore(names, i)) {
        continue;
      }
      if (sb.length() > 1) {
        sb.append(',');
      }
      JsonText.quote(sb, name).append(":\"");
      JsonText.escape(sb, headers.get(i).getValue());
      String separator = name.equals("cookie") ? "; " : ", ";
      for (int j = i + 1; j < n; j++) {
        if (names[j].equals(name)) {
          JsonText.escape(sb.append(separator), headers.get(j).getValue());
        }
      }
      sb.append('"');
    }
    return sb.append('}').toString();
  }

  /**
   * {@link #headersJson} for names that are all ASCII, the names of every HTTP/1 request: compared
   * ignoring case and written lower-cased, with no lower-cased copy of each name made first. For
   * ASCII, equal ignoring case is equal once lower-cased, so the text is the same.
   */
  private String headersJsonAscii(List<Map.Entry<String, String>> headers) {
    int n = headers.size();
    // Each name's lower-case hash, once: names are compared only when their hashes are equal, and
    // most requests repeat no name at all, so the scans for repeats are skipped.
    int[] hashes = new int[n];
    boolean repeats = false;
    for (int i = 0; i < n; i++) {
      hashes[i] = lowerCaseHash(headers.get(i).getKey());
      for (int j = 0; j < i && !repeats; j++) {
        repeats = hashes[j] == hashes[i];
      }
    }
    if (!repeats) {
      String plain = headersJsonLatin1(headers, hashes);
      if (plain != null) {
        return plain;
      }
    }
    return headersJsonAscii(headers, hashes, repeats);
  }

  /** Per thread, the bytes {@link #headersJsonLatin1} writes a request's headers into. */
  private static final ThreadLocal<byte[]> HEADER_BYTES =
      ThreadLocal.withInitial(() -> new byte[1024]);

  /**
   * {@link #headersJsonAscii} of headers that repeat no name and hold nothing to escape, each char
   * one byte (the ISO-8859-1 chars HTTP/1 header values are read as), written as bytes into the
   * thread's array and made a string in one copy; null for any other headers.
   */
  private String headersJsonLatin1(List<Map.Entry<String, String>> headers, int[] hashes) {
    byte[] b = HEADER_BYTES.get();
    int p = 0;
    b[p++] = '{';
    for (int i = 0; i < headers.size(); i++) {
      Map.Entry<String, String> h = headers.get(i);
      String name = h.getKey();
      if (isSecretHeader(hashes[i], name)) {
        continue;
      }
      String value = h.getValue();
      int need = p + name.length() + value.length() + 7;
      if (need > b.length) {
        if (need > MAX_HEADER_BYTES) {
          return null;
        }
        b = Arrays.copyOf(b, Math.max(need, 2 * b.length));
        HEADER_BYTES.set(b);
      }
      if (p > 1) {
        b[p++] = ',';
      }
      b[p++] = '"';
      for (int k = 0; k < name.length(); k++) {
        char c = name.charAt(k);
        if (c < 0x20 || c == '"' || c == '\\') {
          return null;
        }
        b[p++] = (byte) (c >= 'A' && c <= 'Z' ? c + 32 : c);
      }
      b[p++] = '"';
      b[p++] = ':';
      b[p++] = '"';
      for (int k = 0; k < value.length(); k++) {
        char c = value.charAt(k);
        if (c < 0x20 || c == '"' || c == '\\' || c > 0xff) {
          return null;
        }
        b[p++] = (byte) c;
      }
      b[p++] = '"';
    }
    b[p++] = '}';
    return new String(b, 0, p, StandardCharsets.ISO_8859_1);
  }

  /** The most bytes {@link #headersJsonLatin1} keeps in a thread's array; larger heads build. */
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  /** {@link #headersJsonAscii}, built in a {@code StringBuilder}: any ASCII names and values. */
  private String headersJsonAscii(
      List<Map.Entry<String, String>> headers, int[] hashes, boolean repeats) {
    int n = headers.size();
    StringBuilder sb = new StringBuilder(64 + n * 64).append('{');
    for (int i = 0; i < n; i++) {
      String name = headers.get(i).getKey();
      if (isSecretHeader(hashes[i], name) || repeats && sameNameAt(headers, hashes, i, 0, i) >= 0) {
        continue;
      }
      if (sb.length() > 1) {
        sb.append(',');
      }
      sb.append('"');
      appendAsciiLowerCase(sb, name);
      sb.append("\":\"");
      JsonText.escape(sb, headers.get(i).getValue());
      if (repeats) {
        String separator = name.equalsIgnoreCase("cookie") ? "; " : ", ";
        for (int j = sameNameAt(headers, hashes, i, i + 1, n);
            j >= 0;
            j = sameNameAt(headers, hashes, i, j + 1, n)) {
          JsonText.escape(sb.append(separator), headers.get(j).getValue());
        }
      }
      sb.append('"');
    }
    return sb.append('}').toString();
  }

  /** The first index in [from, to) whose name equals name {@code i}'s ignoring case; -1 if none. */
  private static int sameNameAt(
      List<Map.Entry<String, String>> headers, int[] hashes, int i, int from, int to) {
    String name = headers.get(i).getKey();
    for (int j = from; j < to; j++) {
      if (hashes[j] == hashes[i] && headers.get(j).getKey().equalsIgnoreCase(name)) {
        return j;
      }
    }
    return -1;
  }

  /** {@code name.toLowerCase(Locale.ROOT).hashCode()} for an ASCII name, without the copy. */
  private static int lowerCaseHash(String asciiName) {
    int h = 0;
    for (int k = 0; k < asciiName.length(); k++) {
      char c = asciiName.charAt(k);
      h = 31 * h + (c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return h;
  }

  private boolean isSecretHeader(int lowerCaseHash, String asciiName) {
    for (String secret : secretHeaderNames) {
      if (secret.hashCode() == lowerCaseHash && secret.equalsIgnoreCase(asciiName)) {
        return true;
      }
    }
    return false;
  }

  private static boolean asciiNames(List<Map.Entry<String, String>> headers) {
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.get(i).getKey();
      for (int k = 0; k < name.length(); k++) {
        if (name.charAt(k) > 0x7f) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Appends an ASCII header name lower-cased. Header names are tokens (no quote, backslash or
   * control character), but JSON escaping still applies to whatever else a name holds.
   */
  private static void appendAsciiLowerCase(StringBuilder sb, String name) {
    for (int k = 0; k < name.length(); k++) {
      char c = name.charAt(k);
      if (c < 0x20 || c == '"' || c == '\\') {
        JsonText.escape(sb, name.substring(k).toLowerCase(Locale.ROOT));
        return;
      }
      sb.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
    }
  }

  /** True when {@code names[i]} appears before index {@code i}. */
  private static boolean seenBefore(String[] names, int i) {
    for (int j = 0; j < i; j++) {
      if (names[j].equals(names[i])) {
        return true;
      }
    }
    return false;
  }

  /** The query parameters as one JSON object; a repeated name gets an array of its values. */
  String queryJson(List<Map.Entry<String, String>> query) {
    int n = query.size();
    if (n > SCAN_LIMIT) {
      return queryJsonMapped(query);
    }
    String[] names = new String[n];
    for (int i = 0; i < n; i++) {
      names[i] = query.get(i).getKey();
    }
    StringBuilder sb = new StringBuilder(16 + n * 48).append('{');
    for (int i = 0; i < n; i++) {
      String name = names[i];
      if (secretParams.contains(name) || seenBefore(names, i)) {
        continue;
      }
      if (sb.length() > 1) {
        sb.append(',');
      }
      JsonText.quote(sb, name).append(':');
      int repeats = 0;
      for (int j = i + 1; j < n; j++) {
        if (names[j].equals(name)) {
          repeats++;
        }
      }
      if (repeats == 0) {
        JsonText.quote(sb, query.get(i).getValue());
        continue;
      }
      sb.append('[');
      JsonText.quote(sb, query.get(i).getValue());
      for (int j = i + 1; j < n; j++) {
        if (names[j].equals(name)) {
          JsonText.quote(sb.append(','), query.get(j).getValue());
        }
      }
      sb.append(']');
    }
    return sb.append('}').toString();
  }

  /*
   * Past this many headers or parameters the pairwise scans above would cost more than maps; the
   * limits on header and URL size allow thousands, so such requests take the map-based path.
   */
  private static final int SCAN_LIMIT = 64;

  private String headersJsonMapped(List<Map.Entry<String, String>> headers) {
    Map<String, List<String>> byName = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : headers) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!secretHeaders.contains(name)) {
        byName.computeIfAbsent(name, k -> new ArrayList<>(1)).add(e.getValue());
      }
    }
    Map<String, List<String>> joined = new LinkedHashMap<>();
    byName.forEach(
        (name, values) ->
            joined.put(name, List.of(String.join(name.equals("cookie") ? "; " : ", ", values))));
    return JsonText.object(joined);
  }

  private String queryJsonMapped(List<Map.Entry<String, String>> query) {
    Map<String, List<String>> byName = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : query) {
      if (!secretParams.contains(e.getKey())) {
        byName.computeIfAbsent(e.getKey(), k -> new ArrayList<>(1)).add(e.getValue());
      }
    }
    return JsonText.object(byName);
  }

  /**
   * Lower-cases without allocating when the name already is (HTTP/2, most clients' custom headers).
   */
  private static String lowerCase(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z' || c > 0x7f) {
        return name.toLowerCase(Locale.ROOT);
      }
    }
    return name;
  }

  /**
   * One event of the request.
   *
   * @param body the raw body (or batch item) as received; stored as is, minus the API key
   * @param json the body's top-level fields, when it is a JSON object; null otherwise
   */
  public TrafficEvent event(
      SharedRequest s, String organizationId, Endpoint endpoint, String body, JsonFields json) {
    return event(s, organizationId, endpoint, body, json, null);
  }

  /**
   * One event of the request whose body bytes were not valid UTF-8.
   *
   * @param body the body decoded with each bad sequence replaced by U+FFFD
   * @param exactBody the bytes the client sent for it, or null when they were valid text; stored
   *     base64 beside the body, with the API key replaced as in the text
   */
  public TrafficEvent event(
      SharedRequest s,
      String organizationId,
      Endpoint endpoint,
      String body,
      JsonFields json,
      byte[] exactBody) {
    if (s.anonymizeIp()) {
      // Addresses the client relays in its payload are stored anonymized like its own.
      body = json != null ? RelayedAddresses.body(body, json) : RelayedAddresses.text(body);
      if (exactBody != null) {
        exactBody = RelayedAddresses.bytes(exactBody, json);
      }
    }
    Extracted x = extract(s, endpoint, json);
    KeyRedactor key = s.redactor();
    return new TrafficEvent(
        organizationId,
        x.eventId,
        s.receivedAt(),
        s.method(),
        s.url(),
        s.headers(),
        s.queryParams(),
        scrub(body, key),
        x.ip,
        x.userAgent,
        x.referer,
        x.eventType,
        x.clickId,
        x.session,
        x.source,
        x.medium,
        x.campaign,
        exactBody == null ? "" : base64(exactBody, key));
  }

  /** One event's spool record, and its id for the answer. */
  public record Encoded(String eventId, byte[] record) {}

  /**
   * One event of the request, encoded straight into its spool record: the same record as {@link
   * EventCodec#encode} of {@link #event}, without building the event's strings. The body is copied
   * from the request's bytes as they are, unless the API key has to be removed from it.
   *
   * @param utf8 holds the body (or batch item) at {@code [offset, offset + length)}: the UTF-8 of
   *     the text {@link #event} would store
   * @param exactBody as for {@link #event}
   */
  public Encoded encode(
      SharedRequest s,
      String organizationId,
      Endpoint endpoint,
      byte[] utf8,
      int offset,
      int length,
      JsonFields json,
      byte[] exactBody) {
    return encode(s, null, organizationId, endpoint, utf8, offset, length, json, exactBody);
  }

  /**
   * The fields every event of the request stores alike (method, URL, headers, query), encoded once
   * for {@link #encode(SharedRequest, byte[], String, Endpoint, byte[], int, int, JsonFields,
   * byte[])}: a batch's hundred records copy them instead of encoding the same text a hundred
   * times.
   */
  public static byte[] sharedFields(SharedRequest s) {
    return EventCodec.Writer.encodedFields(
        SHARED_TAGS, s.method(), s.url(), orBraces(s.headers()), orBraces(s.queryParams()));
  }

  private static final int[] SHARED_TAGS = {
    Field.METHOD, Field.URL, Field.HEADERS, Field.QUERY_PARAMS
  };

  /**
   * {@link #encode(SharedRequest, String, Endpoint, byte[], int, int, JsonFields, byte[])} with the
   * request's {@link #sharedFields} (null: encode them here).
   */
  public Encoded encode(
      SharedRequest s,
      byte[] sharedFields,
      String organizationId,
      Endpoint endpoint,
      byte[] utf8,
      int offset,
      int length,
      JsonFields json,
      byte[] exactBody) {
    Extracted x = extract(s, endpoint, json);
    KeyRedactor key = s.redactor();
    EventCodec.Writer w = EventCodec.Writer.forThread(s.receivedAt());
    w.field(Field.ORGANIZATION_ID, organizationId);
    w.field(Field.EVENT_ID, x.eventId);
    if (sharedFields != null) {
      w.fields(sharedFields);
    } else {
      w.field(Field.METHOD, s.method());
      w.field(Field.URL, s.url());
      w.field(Field.HEADERS, orBraces(s.headers()));
      w.field(Field.QUERY_PARAMS, orBraces(s.queryParams()));
    }
    if (s.anonymizeIp()) {
      // Relayed addresses are replaced in the text, as event() does.
      String body = new String(utf8, offset, length, StandardCharsets.UTF_8);
      body = json != null ? RelayedAddresses.body(body, json) : RelayedAddresses.text(body);
      w.field(Field.BODY, scrub(body, key));
      if (exactBody != null) {
        exactBody = RelayedAddresses.bytes(exactBody, json);
      }
    } else if (key == null || !key.mayOccurIn(utf8, offset, length)) {
      w.field(Field.BODY, utf8, offset, length);
      if (json != null) {
        json.writeIndex(w, utf8, offset, length);
      }
    } else {
      w.field(Field.BODY, key.scrub(new String(utf8, offset, length, StandardCharsets.UTF_8)));
    }
    w.field(Field.IP, orEmpty(x.ip));
    w.field(Field.USER_AGENT, orEmpty(x.userAgent));
    w.field(Field.REFERER, orEmpty(x.referer));
    w.field(Field.EVENT_TYPE, orEmpty(x.eventType));
    w.field(Field.CLICK_ID, orEmpty(x.clickId));
    w.field(Field.SESSION_ID, orEmpty(x.session));
    w.field(Field.SOURCE, orEmpty(x.source));
    w.field(Field.MEDIUM, orEmpty(x.medium));
    w.field(Field.CAMPAIGN, orEmpty(x.campaign));
    if (exactBody != null) {
      w.field(Field.BODY_BASE64, base64(exactBody, key));
    }
    return new Encoded(x.eventId, w.toByteArray());
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** As {@link TrafficEvent} stores an absent JSON object. */
  private static String orBraces(String s) {
    return s == null || s.isEmpty() ? "{}" : s;
  }

  /** The fields of one event that capture derives; the key already removed from them. */
  private static final class Extracted {
    String eventId;
    String ip;
    String userAgent;
    String referer;
    String eventType;
    String clickId;
    String session;
    String source;
    String medium;
    String campaign;
  }

  private Extracted extract(SharedRequest s, Endpoint endpoint, JsonFields json) {
    RequestData req = s.request();
    Extracted x = new Extracted();
    boolean snowplow = endpoint.isSnowplow();
    UrlEncoding.Query pageQuery = pageQuery(json, snowplow ? req.param("url") : null);

    String eventType =
        snowplow
            ? SnowplowEvents.eventType(
                field(json, req, "e"), field(json, req, "ue_pr"), field(json, req, "ue_px"))
            : null;
    if (eventType == null) {
      eventType = first(json, BODY_EVENT_TYPE);
    }
    if (eventType == null) {
      eventType = QUERY_EVENT_TYPE.firstParam(s.params());
    }
    if (eventType == null) {
      eventType = endpoint.defaultEventType();
    }

    String clickId = clickId(json, s.params(), pageQuery);

    String session = first(json, SESSION);
    if (session == null && json != null) {
      session = nonEmpty(json.property("$session_id"));
      if (session == null) {
        session = nonEmpty(json.context("sessionId"));
      }
    }
    if (session == null) {
      session = SESSION.firstParam(s.params());
    }
    if (session == null) {
      session = s.sessionHeader();
    }

    String eventId = null;
    if (json != null) {
      for (String f : EVENT_ID) {
        eventId = Uuids.canonical(json.text(f));
        if (eventId != null) {
          break;
        }
      }
    }
    if (eventId == null && json == null && snowplow) {
      eventId = Uuids.canonical(req.param("eid"));
    }
    if (eventId == null) {
      eventId = Uuids.v7(s.receivedAt()).toString();
    }

    String ip = s.ip();
    String userAgent = s.userAgent();
    String referer = s.referer();
    boolean sdk = endpoint.isSegment() || endpoint == Endpoint.POSTHOG || snowplow;
    String pageReferrer = sdk ? pageReferrer(json, snowplow ? req : null) : null;
    if (pageReferrer != null) {
      referer = pageReferrer;
    }
    if (s.relay() && sdk) {
      String relayedIp = relayed(json, snowplow ? req : null, "ip", "$ip", "ip");
      if (relayedIp != null && IpRanges.literal(relayedIp.trim()) != null) {
        ip = relayedIp.trim();
        if (s.anonymizeIp()) {
          // The body holds it anonymized too: event() and encode() replace it there.
          ip = IpAnonymizer.anonymizeOrEmpty(ip);
        }
      }
      String relayedAgent =
          relayed(json, snowplow ? req : null, "userAgent", "$raw_user_agent", "ua");
      if (relayedAgent != null) {
        userAgent = relayedAgent;
      }
    }

    KeyRedactor key = s.redactor();
    x.eventId = eventId;
    x.ip = ip;
    // The request's user agent, referrer and session header were scrubbed once in request().
    boolean once = key == null || key.scrubsOnce();
    x.userAgent = once && userAgent == s.userAgent() ? userAgent : scrub(userAgent, key);
    x.referer = once && referer == s.referer() ? referer : scrub(referer, key);
    x.eventType = scrub(eventType, key);
    x.clickId = scrub(clickId, key);
    x.session = once && session == s.sessionHeader() ? session : scrub(session, key);
    // Segment and RudderStack SDKs put the UTM parameters in context.campaign.
    x.source = scrub(utm(json, s.params(), pageQuery, UTM_SOURCE, "campaign.source"), key);
    x.medium = scrub(utm(json, s.params(), pageQuery, UTM_MEDIUM, "campaign.medium"), key);
    x.campaign = scrub(utm(json, s.params(), pageQuery, UTM_CAMPAIGN, "campaign.name"), key);
    return x;
  }

  /**
   * The bytes as base64, with the key replaced: ISO-8859-1 maps each byte to one char and back, so
   * the key (ASCII) is found and replaced in the bytes exactly as in text.
   */
  private static String base64(byte[] bytes, KeyRedactor key) {
    byte[] kept = bytes;
    if (key != null) {
      String latin = new String(bytes, StandardCharsets.ISO_8859_1);
      String scrubbed = key.scrub(latin);
      if (scrubbed != latin) {
        kept = scrubbed.getBytes(StandardCharsets.ISO_8859_1);
      }
    }
    return Base64.getEncoder().encodeToString(kept);
  }

  /** A top-level field of the event: of its JSON object, or of the query for a pixel. */
  private static String field(JsonFields json, RequestData req, String name) {
    return nonEmpty(json != null ? json.text(name) : req.param(name));
  }

  /**
   * The referrer of the page the SDK reports ({@code properties.$referrer} or {@code
   * properties.referrer}, {@code context.page.referrer}, Snowplow's {@code refr}); null when it
   * reports none. {@code $direct} is how PostHog and RudderStack say "none".
   */
  private static String pageReferrer(JsonFields json, RequestData pixel) {
    String r = null;
    if (json != null) {
      r = nonEmpty(json.property("$referrer"));
      if (r == null) {
        r = nonEmpty(json.property("referrer"));
      }
      if (r == null) {
        r = nonEmpty(json.context("page.referrer"));
      }
      if (r == null) {
        r = nonEmpty(json.text("refr"));
      }
    } else if (pixel != null) {
      r = nonEmpty(pixel.param("refr"));
    }
    return r == null || r.equals("$direct") ? null : r;
  }

  /**
   * What a server-side SDK relays from the browser: in Segment's and RudderStack's {@code context},
   * PostHog's {@code properties}, or Snowplow's top-level fields (or pixel query).
   */
  private static String relayed(
      JsonFields json, RequestData snowplow, String context, String property, String field) {
    if (snowplow != null) {
      return field(json, snowplow, field);
    }
    if (json == null) {
      return null;
    }
    String v = nonEmpty(json.context(context));
    return v != null ? v : nonEmpty(json.property(property));
  }

  private static String clickId(
      JsonFields json, JsonFields.Params params, UrlEncoding.Query pageQuery) {
    for (JsonFields.Names slots : CLICK_ID_NAMES) {
      List<String> names = slots.list();
      String v = first(json, slots);
      if (v == null) {
        v = slots.firstParam(params);
      }
      if (v == null) {
        for (String n : names) {
          v = pageQuery.first(n);
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
      JsonFields json,
      JsonFields.Params params,
      UrlEncoding.Query pageQuery,
      JsonFields.Names fields,
      String context) {
    List<String> names = fields.list();
    String v = first(json, fields);
    if (v == null) {
      v = fields.firstParam(params);
    }
    if (v == null && json != null) {
      v = nonEmpty(json.context(context));
    }
    if (v == null) {
      v = pageQuery.first(names.get(0));
    }
    return v;
  }

  private static String nonEmpty(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /**
   * The query parameters of the page URL the body names ({@code url}, {@code page_url} or {@code
   * page}, else Segment's {@code properties.url}, PostHog's {@code properties.$current_url}, an
   * SDK's {@code context.page.url}, or a Snowplow pixel's {@code url} parameter), first value of
   * each name. Runs for most browser events, so it decodes nothing until a name is looked up.
   */
  private static UrlEncoding.Query pageQuery(JsonFields json, String pixelUrl) {
    String url = first(json, PAGE_URL);
    if (url == null && json != null) {
      url = nonEmpty(json.property("url"));
      if (url == null) {
        url = nonEmpty(json.property("$current_url"));
      }
      if (url == null) {
        url = nonEmpty(json.context("page.url"));
      }
    }
    if (url == null) {
      url = nonEmpty(pixelUrl);
    }
    if (url == null) {
      return UrlEncoding.Query.EMPTY;
    }
    int q = url.indexOf('?');
    if (q < 0) {
      return UrlEncoding.Query.EMPTY;
    }
    int hash = url.indexOf('#', q);
    int end = hash < 0 ? url.length() : hash;
    // Looked up by scanning: a page URL has a few parameters, and a map of them cost more to build
    // than the fifteen lookups capture makes in it; only the values found are decoded.
    return UrlEncoding.query(url, q + 1, end);
  }

  private static String first(JsonFields json, JsonFields.Names names) {
    return json == null ? null : json.first(names);
  }

  /**
   * True when the address of any organization's clients is anonymized: a record that is not tied to
   * one organization (an access-log line) anonymizes then too.
   */
  public boolean anonymizesAnyIp() {
    return config.anonymizesAnyIp();
  }

  /**
   * True when {@code peer} is one of {@code capture.trusted-proxies}, whose headers are believed.
   */
  public boolean trustsPeer(String peer) {
    return trustedProxies.contains(peer);
  }

  /**
   * The client's address: the peer, or what a trusted proxy in front of it says. A hop may carry a
   * port or brackets ({@code 203.0.113.5:54321}, as Azure's Application Gateway writes it, {@code
   * [2001:db8::1]:443}); the address is what is kept.
   */
  public String clientIp(RequestData req) {
    String peer = req.peerIp();
    if (!trustsPeer(peer)) {
      return peer;
    }
    String xff = req.header("x-forwarded-for");
    if (xff != null) {
      String[] hops = xff.split(",");
      // The rightmost hop not operated by a trusted proxy is the client.
      for (int i = hops.length - 1; i >= 0; i--) {
        String hop = hopAddress(hops[i]);
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
            String v = hopAddress(p.substring(4));
            if (IpRanges.literal(v) != null && !trustedProxies.contains(v)) {
              return v;
            }
          }
        }
      }
    }
    String real = req.header("x-real-ip");
    if (real != null && IpRanges.literal(hopAddress(real)) != null) {
      return hopAddress(real);
    }
    return peer;
  }

  /**
   * The address of one hop as a proxy wrote it: without quotes, brackets and a port ({@code
   * "[2001:db8::1]:443"}, {@code 203.0.113.5:54321}); a bare IPv6 address as it is.
   */
  static String hopAddress(String hop) {
    String v = hop.trim().replace("\"", "");
    if (v.startsWith("[")) {
      int close = v.indexOf(']');
      return v.substring(1, close > 0 ? close : v.length());
    }
    int colon = v.indexOf(':');
    return colon > 0 && colon == v.lastIndexOf(':') ? v.substring(0, colon) : v;
  }

  /** The URL with the named query parameters removed; everything else kept byte for byte. */
  static String withoutParams(String url, Set<String> names) {
    int q = url.indexOf('?');
    if (q < 0) {
      return url;
    }
    int hash = url.indexOf('#', q);
    int end = hash < 0 ? url.length() : hash;
    // Walks the parameters in place; copies only when one of them has to go.
    StringBuilder kept = null;
    int start = q + 1;
    while (start <= end) {
      int amp = url.indexOf('&', start);
      int partEnd = amp < 0 || amp > end ? end : amp;
      if (isNamed(url, start, partEnd, names)) {
        if (kept == null) {
          kept = new StringBuilder(url.length());
          for (int s = q + 1; s < start; ) {
            int e = url.indexOf('&', s);
            keep(kept, url, s, e);
            s = e + 1;
          }
        }
      } else if (kept != null) {
        keep(kept, url, start, partEnd);
      }
      start = partEnd + 1;
    }
    if (kept == null) {
      return url;
    }
    String base = url.substring(0, q);
    String fragment = hash < 0 ? "" : url.substring(hash);
    return kept.length() == 0 ? base + fragment : base + "?" + kept + fragment;
  }

  private static void keep(StringBuilder kept, String url, int start, int end) {
    if (kept.length() > 0) {
      kept.append('&');
    }
    kept.append(url, start, end);
  }

  /** True when the parameter in url[start, end) has one of the names, once decoded. */
  private static boolean isNamed(String url, int start, int end, Set<String> names) {
    int eq = url.indexOf('=', start);
    int nameEnd = eq < 0 || eq > end ? end : eq;
    for (int i = start; i < nameEnd; i++) {
      char c = url.charAt(i);
      if (c == '%' || c == '+') {
        return names.contains(UrlEncoding.decode(url, start, nameEnd));
      }
    }
    int len = nameEnd - start;
    for (String n : names) {
      if (n.length() == len && url.regionMatches(start, n, 0, len)) {
        return true;
      }
    }
    return false;
  }

  private static String scrub(String text, KeyRedactor key) {
    return key == null ? text : key.scrub(text);
  }
}
