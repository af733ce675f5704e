package io.trellis.ingress.http;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.auth.AuthResult;
import io.trellis.ingress.auth.KeyResolver;
import io.trellis.ingress.base.JsonScanner;
import io.trellis.ingress.base.JsonText;
import io.trellis.ingress.capture.BatchItems;
import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.capture.EventCapture;
import io.trellis.ingress.capture.JsonFields;
import io.trellis.ingress.capture.RequestData;
import io.trellis.ingress.capture.UrlEncoding;
import io.trellis.ingress.http.HttpMetrics.Outcome;
import io.trellis.ingress.limits.RateLimits;
import io.trellis.ingress.spool.RecordTooLargeException;
import io.trellis.ingress.spool.Spool;
import io.trellis.ingress.spool.SpoolFullException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP adapter: routes, reads and decodes the body within its limits, authenticates, captures,
 * appends to the spool, and answers once the spool has the events. Nothing else. Runs on event-loop
 * threads and never blocks them.
 *
 * <p>Every refusal is an {@link HttpError}: a status, a stable code and a JSON body. Body decoding
 * lives in {@link BodyDecoder}, body reading in {@link BodyReader}, routing in {@link Routes},
 * cross-origin rules in {@link Cors} and answers in {@link Responses}.
 */
final class CaptureHandler {
  private static final Logger log = LoggerFactory.getLogger(CaptureHandler.class);

  private final HttpConfig config;
  private final ClientConfig clients;
  private final KeyResolver keys;
  private final EventCapture capture;
  private final Spool spool;
  private final RateLimits limits;
  private final HttpMetrics metrics;
  private final Cors cors;
  private final ClickRedirect redirect;
  private final TrackerScript tracker = TrackerScript.load();
  private final BodyReader bodies;
  private final RequestUrls urls;
  private final BodyBudget budget;

  CaptureHandler(
      HttpConfig config,
      ClientConfig clients,
      KeyResolver keys,
      EventCapture capture,
      Spool spool,
      RateLimits limits,
      HttpMetrics metrics,
      CapacityConfig capacity,
      BodyBudget budget) {
    this.config = requireNonNull(config, "config is null");
    this.clients = requireNonNull(clients, "clients is null");
    this.keys = requireNonNull(keys, "keys is null");
    this.capture = requireNonNull(capture, "capture is null");
    this.spool = requireNonNull(spool, "spool is null");
    this.limits = requireNonNull(limits, "limits is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
    this.cors = new Cors(clients);
    this.redirect = new ClickRedirect(clients);
    this.bodies = new BodyReader(capacity.lingerTime(), capacity.lingerMaxBytes());
    this.urls = new RequestUrls();
    this.budget = requireNonNull(budget, "budget is null");
  }

  /** What one request has told us before its body arrives. */
  private record Pending(
      HttpServerRequest req,
      Context ctx,
      Endpoint endpoint,
      List<Map.Entry<String, String>> query,
      long limit,
      long receivedAt,
      String redirectTo,
      String pathKey,
      Outcome outcome,
      ConnectionDeadlines deadlines,
      BodyBudget.Lease lease,
      RequestData head,
      String clientIp) {}

  /* Each endpoint's name in the metrics and the access log. */
  private static final String[] ENDPOINT_NAMES =
      Arrays.stream(Endpoint.values())
          .map(e -> e.name().toLowerCase(Locale.ROOT))
          .toArray(String[]::new);

  /** Handles one request on its event loop, whose deadlines bound the request's body. */
  void handle(HttpServerRequest req, ConnectionDeadlines deadlines) {
    Routes.Route route = Routes.find(req.path());
    Routes.Route sdkConfig = route == null ? SdkConfig.route(req.path()) : null;
    HttpMethod m = req.method();
    Outcome outcome =
        new Outcome(
            route != null
                ? ENDPOINT_NAMES[route.endpoint().ordinal()]
                : sdkConfig != null ? "sdk_config" : "unknown");
    if (deadlines.isClosing(req.connection())) {
      // A request read after one that ends its connection: it may be hidden in that one's body.
      req.connection().close();
      return;
    }
    Exchange exchange = new Exchange();
    HttpServerResponse response = req.response();
    response.endHandler(
        v -> {
          if (req.version() == HttpVersion.HTTP_2 && !req.isEnded()) {
            // RFC 9113 §8.1: the answer is whole, so the client may stop sending without error.
            // Else the stream stays open until it does, holding memory and a stream slot.
            response.reset(0);
          }
          exchange.done();
          metrics.finished(outcome, response.getStatusCode());
          AccessLog.record(req, outcome, response.getStatusCode(), capture.anonymizesAnyIp());
        });
    response.closeHandler(v -> exchange.done());
    if (req.version() == HttpVersion.HTTP_2) {
      String peer = peer(req);
      exchange.stream = capture.trustsPeer(peer) ? budget.leaseOfTotal() : budget.lease(peer);
      BodyBudget.Refusal refusal = exchange.stream.grow(streamBytes(req));
      if (refusal != null) {
        fail(outcome, req, streamsOverBudget(refusal));
        return;
      }
    }
    // Both framing headers: see StrictFraming, which keeps them both for this check.
    if (req.version() != HttpVersion.HTTP_2
        && req.headers().contains(HttpHeaders.TRANSFER_ENCODING)
        && req.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      refuse(
          outcome,
          req,
          deadlines,
          new HttpError(
              400,
              "ambiguous_length",
              "the request has both Content-Length and Transfer-Encoding; send only one"));
      return;
    }
    HttpError coding = transferCodingError(req);
    if (coding != null) {
      refuse(outcome, req, deadlines, coding);
      return;
    }
    if ("/openapi.yaml".equals(req.path()) && (m == HttpMethod.GET || m == HttpMethod.HEAD)) {
      outcome.endpoint = "openapi";
      Responses.openApi(req.response());
      return;
    }
    if (TrackerScript.matches(req)) {
      outcome.endpoint = "tracker";
      tracker.serve(req);
      return;
    }
    if ((route != null || sdkConfig != null) && m == HttpMethod.OPTIONS) {
      cors.preflight(req, route != null ? route : sdkConfig);
      return;
    }
    cors.decorate(req);
    if (sdkConfig != null) {
      answerConfig(req, sdkConfig, outcome, deadlines, exchange);
      return;
    }
    if (route == null) {
      fail(
          outcome,
          req,
          new HttpError(404, "not_found", "no such endpoint: " + Routes.loggable(req.path())));
      return;
    }
    if (!route.allows(m)) {
      req.response().putHeader("Allow", route.allowHeader());
      fail(
          outcome,
          req,
          new HttpError(
              405, "method_not_allowed", m + " is not allowed here; use " + route.allowHeader()));
      return;
    }
    List<Map.Entry<String, String>> headers = headers(req, clients.headerCountMax());
    if (headers == null) {
      refuse(
          outcome,
          req,
          deadlines,
          new HttpError(
              431,
              "too_many_headers",
              "a request may carry at most " + clients.headerCountMax() + " headers"));
      return;
    }
    int hosts = hostLines(headers);
    if (hosts > 1) {
      // RFC 9112 §3.2: a proxy in front may route by one and this server read the other.
      refuse(
          outcome,
          req,
          deadlines,
          HttpError.badRequest("the request has more than one Host header"));
      return;
    }
    if (hosts == 0 && req.version() == HttpVersion.HTTP_1_1) {
      // RFC 9112 §3.2: an HTTP/1.1 request without one must be answered 400.
      refuse(
          outcome, req, deadlines, HttpError.badRequest("an HTTP/1.1 request needs a Host header"));
      return;
    }
    Endpoint endpoint = route.endpoint();
    long limit = endpoint.isBatch() ? config.batchBodyMaxBytes() : config.bodyMaxBytes();
    String contentLength = req.getHeader("content-length");
    if (contentLength != null) {
      long declared;
      try {
        declared = Long.parseLong(contentLength.trim());
      } catch (NumberFormatException e) {
        refuse(outcome, req, deadlines, HttpError.badRequest("invalid Content-Length"));
        return;
      }
      if (declared > limit) {
        refuse(outcome, req, deadlines, tooLarge(limit));
        return;
      }
    }
    String rawQuery = req.query();
    List<Map.Entry<String, String>> query =
        rawQuery == null
            ? List.of()
            : UrlEncoding.params(rawQuery, 0, rawQuery.length(), clients.paramsMax());
    if (query.size() > clients.paramsMax()) {
      refuse(outcome, req, deadlines, BodyDecoder.tooManyFields(clients.paramsMax()));
      return;
    }
    String redirectTo = null;
    if (endpoint == Endpoint.REDIRECT) {
      ClickRedirect.Verdict v = redirect.check(UrlEncoding.first(query, ClickRedirect.TARGET));
      if (v instanceof ClickRedirect.Refuse r) {
        refuse(outcome, req, deadlines, r.error());
        return;
      }
      redirectTo = ((ClickRedirect.Follow) v).location();
    }
    long receivedAt = System.currentTimeMillis();
    RequestData head = requestData(req, receivedAt, query, headers);
    String clientIp = capture.clientIp(head);
    outcome.client = clientIp;
    long blocked = limits.clientRetryAfter(clientIp);
    if (blocked > 0) {
      refuse(
          outcome,
          req,
          deadlines,
          HttpError.rateLimited("too many failed authentications from this address", blocked));
      return;
    }
    exchange.lease = budget.lease(clientIp);
    Pending p =
        new Pending(
            req,
            Vertx.currentContext(),
            endpoint,
            query,
            limit,
            receivedAt,
            redirectTo,
            Routes.pathKey(req.path()),
            outcome,
            deadlines,
            exchange.lease,
            head,
            clientIp);
    Set<String> headerKeys = ApiKeyExtractor.candidates(head, p.pathKey(), null, null);
    if (headerKeys.size() > 1) {
      refuse(outcome, req, deadlines, conflictingKeys());
      return;
    }
    if (headerKeys.isEmpty()) {
      readBody(p, null, null);
      return;
    }
    // The key is in the headers or the query: check it before taking the body, so that a stranger
    // without a valid key never has a body buffered.
    String key = headerKeys.iterator().next();
    req.pause();
    RateLimits.Attempt attempt = limits.attempt(clientIp);
    whenDone(
        keys.resolve(key, attempt),
        p.ctx(),
        verdict -> {
          attempt.settle(countsAgainstSender(verdict));
          if (verdict instanceof AuthResult.Authorized) {
            readBody(p, key, verdict);
          } else {
            refuse(outcome, req, deadlines, authError(verdict));
          }
        },
        err -> {
          attempt.settle(false);
          log.warn("Key resolution failed: {}", err.toString());
          refuse(
              outcome, req, deadlines, HttpError.unavailable("cannot verify the API key now", 5));
        });
  }

  /**
   * Reads the body, then goes on with it; {@code key} and {@code verdict} are the header or query
   * key and its verdict when one was checked before the body.
   */
  private void readBody(Pending p, String key, AuthResult verdict) {
    HttpServerRequest req = p.req();
    if ("100-continue".equalsIgnoreCase(req.getHeader("expect"))) {
      req.response().writeContinue();
    }
    bodies.read(
        req,
        p.deadlines(),
        p.limit(),
        clients.requestTimeout().toMillis(),
        p.lease(),
        body -> onBody(p, body, key, verdict));
    req.resume();
  }

  /** What one request holds until it is answered: its body memory, and an HTTP/2 stream's own. */
  private static final class Exchange {
    BodyBudget.Lease lease;
    BodyBudget.Lease stream;

    void done() {
      if (lease != null) {
        lease.release();
      }
      if (stream != null) {
        stream.release();
      }
    }
  }

  /*
   * What an open HTTP/2 stream holds besides its body, measured with thousands of streams open and
   * waiting for their bodies: about 8 KiB of Netty and Vert.x state (half of it the stream's queue
   * of inbound frames), and two bytes per character of its headers.
   */
  static final long STREAM_BYTES = 8 * 1024;

  private static long streamBytes(HttpServerRequest req) {
    long chars = 0;
    for (Map.Entry<String, String> h : req.headers()) {
      chars += h.getKey().length() + h.getValue().length();
    }
    return STREAM_BYTES + 2 * chars;
  }

  private static HttpError streamsOverBudget(BodyBudget.Refusal refusal) {
    return refusal == BodyBudget.Refusal.CLIENT
        ? HttpError.rateLimited(
            "this address has too many requests open; retry when they are answered", 1)
        : HttpError.unavailable(
            "the service holds as many open requests as it can; retry in a moment", 1);
  }

  /** An SDK's configuration call: its body is read within the limits and dropped. */
  private void answerConfig(
      HttpServerRequest req,
      Routes.Route config,
      Outcome outcome,
      ConnectionDeadlines deadlines,
      Exchange exchange) {
    if (!config.allows(req.method())) {
      req.response().putHeader("Allow", config.allowHeader());
      fail(
          outcome,
          req,
          new HttpError(
              405,
              "method_not_allowed",
              req.method() + " is not allowed here; use " + config.allowHeader()));
      return;
    }
    String peer = peer(req);
    String segmentKey = SdkConfig.segmentKey(req.path());
    exchange.lease = budget.lease(peer);
    bodies.read(
        req,
        deadlines,
        config.bodyMaxBytes(),
        clients.requestTimeout().toMillis(),
        exchange.lease,
        body -> {
          if (segmentKey != null) {
            answerSegmentSettings(req, segmentKey, outcome);
          } else {
            SdkConfig.answer(req);
          }
        });
  }

  /**
   * Segment's settings for the key in the path, checked like any key once the (dropped) body was
   * read: they point analytics.js at the host and scheme the caller used. The host, port and path
   * prefix behind a proxy are the ones a trusted proxy names, as for the stored URL: a host header
   * believed from anyone would let one request point a shared cache's copy of the settings at
   * another server. The scheme is believed from anyone: a false one only breaks the caller's own
   * SDK.
   */
  private void answerSegmentSettings(HttpServerRequest req, String key, Outcome outcome) {
    String peer = peer(req);
    String location = RequestUrls.clientLocation(req, capture.trustsPeer(peer));
    if (location == null) {
      fail(
          outcome,
          req,
          HttpError.badRequest(
              "a Host header naming a host is needed: the settings name the host to send to"));
      return;
    }
    List<Map.Entry<String, String>> headers = headers(req, Integer.MAX_VALUE);
    RequestData head = requestData(req, System.currentTimeMillis(), List.of(), headers);
    String clientIp = capture.clientIp(head);
    outcome.client = clientIp;
    long blocked = limits.clientRetryAfter(clientIp);
    if (blocked > 0) {
      fail(
          outcome,
          req,
          HttpError.rateLimited("too many failed authentications from this address", blocked));
      return;
    }
    Context ctx = Vertx.currentContext();
    RateLimits.Attempt attempt = limits.attempt(clientIp);
    whenDone(
        keys.resolve(key, attempt),
        ctx,
        verdict -> {
          attempt.settle(countsAgainstSender(verdict));
          if (verdict instanceof AuthResult.Authorized) {
            Responses.json(
                req.response(),
                200,
                SdkConfig.segmentSettings(key, location, RequestUrls.callerScheme(req)));
          } else {
            fail(outcome, req, authError(verdict));
          }
        },
        err -> {
          attempt.settle(false);
          log.warn("Key resolution failed: {}", err.toString());
          fail(outcome, req, HttpError.unavailable("cannot verify the API key now", 5));
        });
  }

  /**
   * The request's header lines in arrival order, read once from Vert.x; null when there are more
   * than {@code max}. Walks them with {@code forEach}: its iterator wraps every entry, and {@code
   * MultiMap.size()} builds a sorted set of the names on every call.
   */
  private static List<Map.Entry<String, String>> headers(HttpServerRequest req, int max) {
    List<Map.Entry<String, String>> headers = new ArrayList<>(16);
    req.headers()
        .forEach(
            (name, value) -> {
              if (headers.size() <= max) {
                headers.add(new AbstractMap.SimpleImmutableEntry<>(name, value));
              }
            });
    return headers.size() > max ? null : headers;
  }

  /** The socket peer's address, or the empty string when the connection has none. */
  private static String peer(HttpServerRequest req) {
    return req.remoteAddress() == null ? "" : req.remoteAddress().hostAddress();
  }

  private static int hostLines(List<Map.Entry<String, String>> headers) {
    int n = 0;
    for (int i = 0; i < headers.size(); i++) {
      if (headers.get(i).getKey().equalsIgnoreCase("host")) {
        n++;
      }
    }
    return n;
  }

  /** Answers with the error and remembers its code as the reason the request was refused. */
  private static void fail(Outcome outcome, HttpServerRequest req, HttpError error) {
    outcome.reason = error.code();
    Responses.error(req.response(), error);
  }

  private void refuse(
      Outcome outcome, HttpServerRequest req, ConnectionDeadlines deadlines, HttpError error) {
    outcome.reason = error.code();
    bodies.refuse(req, deadlines, error);
  }

  /**
   * Why an HTTP/1 request's {@code Transfer-Encoding} cannot be read, or null when it has none or
   * it is {@code chunked} alone. RFC 9112 §6.1 and §6.3: when {@code chunked} is not the last
   * coding (or is given twice) the body's length cannot be known, and a proxy in front may have
   * framed it otherwise (request smuggling), so the answer is 400 and the connection closes; any
   * other coding is not implemented here (501). A compressed body says so with {@code
   * Content-Encoding}.
   */
  static HttpError transferCodingError(HttpServerRequest req) {
    if (req.version() == HttpVersion.HTTP_2) {
      return null;
    }
    String first = req.headers().get(HttpHeaders.TRANSFER_ENCODING);
    if (first == null) {
      return null;
    }
    if (req.version() == HttpVersion.HTTP_1_0) {
      return new HttpError(
          400,
          "ambiguous_length",
          "Transfer-Encoding is defined from HTTP/1.1 on: the body's length cannot be known");
    }
    List<String> values = req.headers().getAll(HttpHeaders.TRANSFER_ENCODING);
    List<String> codings = new ArrayList<>(2);
    for (String value : values) {
      for (String coding : value.split(",", -1)) {
        codings.add(coding.trim().toLowerCase(Locale.ROOT));
      }
    }
    if (codings.size() == 1 && codings.get(0).equals("chunked")) {
      return null;
    }
    if (!codings.get(codings.size() - 1).equals("chunked")
        || codings.indexOf("chunked") != codings.size() - 1) {
      return new HttpError(
          400,
          "ambiguous_length",
          "Transfer-Encoding must be chunked, once and last: the body's length cannot be known"
              + " otherwise");
    }
    return new HttpError(
        501,
        "unsupported_transfer_coding",
        "only Transfer-Encoding: chunked is supported; send a compressed body with"
            + " Content-Encoding");
  }

  private static HttpError conflictingKeys() {
    return new HttpError(
        400, "conflicting_api_keys", "the request carries more than one distinct API key");
  }

  private static HttpError tooDeep(int max) {
    return new HttpError(
        400, "json_too_deep", "JSON objects and arrays may nest at most " + max + " deep");
  }

  private static HttpError tooLarge(long limit) {
    return HttpError.tooLarge("request body exceeds the limit of " + limit + " bytes");
  }

  private void onBody(Pending p, byte[] raw, String checkedKey, AuthResult checkedVerdict) {
    HttpServerRequest req = p.req();
    BodyDecoder.Decoded body;
    try {
      body =
          BodyDecoder.decode(
              contentEncoding(p, raw),
              req.getHeader("content-type"),
              raw,
              p.limit(),
              clients.paramsMax() - p.query().size());
    } catch (BodyDecoder.RejectedException e) {
      fail(p.outcome(), req, e.error());
      return;
    }
    List<Map.Entry<String, String>> params = p.query();
    if (!body.formFields().isEmpty()) {
      params = new ArrayList<>(p.query());
      params.addAll(body.formFields());
    }
    boolean json = JsonDepth.looksLikeJson(body.utf8());
    boolean batch = p.endpoint().isBatch() && !singlePostHogEvent(p.endpoint(), body.utf8());
    // A single event's JSON object is parsed once, here: key lookup and capture both read it. Its
    // nesting is checked in the same pass, and by a count of its brackets when it is not one
    // well-formed object; a batch's, by the scanner that splits it.
    JsonFields parsed;
    try {
      parsed = json && !batch ? JsonFields.parse(body.utf8(), clients.jsonDepthMax()) : null;
    } catch (JsonScanner.TooDeep e) {
      fail(p.outcome(), req, tooDeep(clients.jsonDepthMax()));
      return;
    }
    if (json
        && !batch
        && parsed == null
        && JsonDepth.exceeds(body.utf8(), clients.jsonDepthMax())) {
      fail(p.outcome(), req, tooDeep(clients.jsonDepthMax()));
      return;
    }
    // The head's headers, read once from Vert.x when the request arrived.
    RequestData head = p.head();
    RequestData data = params == p.query() ? head : head.withQuery(params);
    // The client's address comes from the peer and the headers, which the body does not change.
    String clientIp = p.clientIp();
    long blocked = limits.clientRetryAfter(clientIp);
    if (blocked > 0) {
      fail(
          p.outcome(),
          req,
          HttpError.rateLimited("too many failed authentications from this address", blocked));
      return;
    }
    Set<String> found;
    if (data == head) {
      // No form fields: the path, headers and query gave the head's keys, which were found when
      // the request arrived (checkedKey, or none); only the body can add one.
      found = new LinkedHashSet<>(2);
      ApiKeyExtractor.add(found, checkedKey);
      ApiKeyExtractor.addBodyKeys(found, json ? body.utf8() : null, parsed);
    } else {
      found = ApiKeyExtractor.candidates(data, p.pathKey(), json ? body.utf8() : null, parsed);
    }
    if (p.endpoint() == Endpoint.POSTHOG && parsed != null) {
      // PostHog's single-event form carries the project token in the event.
      ApiKeyExtractor.add(found, parsed.text("token"));
      ApiKeyExtractor.add(found, parsed.property("token"));
    }
    BatchItems.Batch split = null;
    if (found.isEmpty() && batch && p.endpoint() == Endpoint.POSTHOG) {
      // A PostHog batch may carry its token only in its events: split it now to find it.
      split = splitBatch(p, body);
      if (split == null) {
        return;
      }
      for (BatchItems.Item item : split.items()) {
        if (item.json() != null) {
          ApiKeyExtractor.addItemKeys(found, item.json());
        }
      }
    }
    if (found.isEmpty()) {
      fail(
          p.outcome(),
          req,
          HttpError.unauthorized(
              "missing API key: send 'Authorization: Bearer KEY', or api_key in the query, the"
                  + " form or the JSON body"));
      return;
    }
    if (found.size() > 1) {
      fail(p.outcome(), req, conflictingKeys());
      return;
    }
    String key = found.iterator().next();
    BatchItems.Batch items = split;
    if (checkedVerdict != null && key.equals(checkedKey)) {
      accept(p, data, key, (AuthResult.Authorized) checkedVerdict, body, parsed, batch, items);
      return;
    }
    RateLimits.Attempt attempt = limits.attempt(clientIp);
    whenDone(
        keys.resolve(key, attempt),
        p.ctx(),
        verdict -> {
          attempt.settle(countsAgainstSender(verdict));
          if (verdict instanceof AuthResult.Authorized a) {
            accept(p, data, key, a, body, parsed, batch, items);
          } else {
            fail(p.outcome(), req, authError(verdict));
          }
        },
        err -> {
          attempt.settle(false);
          log.warn("Key resolution failed: {}", err.toString());
          fail(p.outcome(), req, HttpError.unavailable("cannot verify the API key now", 5));
        });
  }

  /** Refused keys, and failures of the key alone, count against the sending address. */
  private static boolean countsAgainstSender(AuthResult verdict) {
    return verdict instanceof AuthResult.Unauthorized
        || verdict instanceof AuthResult.Forbidden
        || (verdict instanceof AuthResult.Unavailable u && u.keyFault());
  }

  private static HttpError authError(AuthResult verdict) {
    if (verdict instanceof AuthResult.Throttled t) {
      return HttpError.rateLimited(
          "too many failed authentications from this address",
          Math.max(1, t.retryAfter().toSeconds()));
    }
    if (verdict instanceof AuthResult.Forbidden f) {
      return new HttpError(403, "forbidden", f.reason());
    }
    if (verdict instanceof AuthResult.Unavailable u) {
      return HttpError.unavailable(u.reason(), Math.max(1, u.retryAfter().toSeconds()));
    }
    return HttpError.unauthorized(((AuthResult.Unauthorized) verdict).reason());
  }

  private void accept(
      Pending p,
      RequestData data,
      String key,
      AuthResult.Authorized auth,
      BodyDecoder.Decoded body,
      JsonFields parsed,
      boolean batch,
      BatchItems.Batch split) {
    HttpServerRequest req = p.req();
    Endpoint endpoint = p.endpoint();
    String org = auth.organizationId();
    if (batch) {
      acceptBatch(p, data, key, auth, body, split);
      return;
    }
    EventCapture.SharedRequest shared = capture.request(data, key, auth.relay(), org);
    if (overLimit(p, org, 1)) {
      return;
    }
    byte[] utf8 = body.utf8();
    EventCapture.Encoded event =
        capture.encode(
            shared,
            org,
            endpoint,
            utf8,
            0,
            utf8.length,
            parsed,
            body.invalid() == null ? null : body.invalid().bytes());
    append(
        List.of(event.record()),
        p.ctx(),
        () -> {
          metrics.accepted(p.outcome().endpoint, 1);
          HttpServerResponse res = req.response();
          switch (endpoint) {
            case PIXEL, SNOWPLOW_PIXEL -> Responses.gif(res);
            case TRACK -> {
              if (wantsGif(data)) {
                Responses.gif(res);
              } else {
                Responses.ok(res, event.eventId());
              }
            }
            case REDIRECT -> Responses.redirect(res, p.redirectTo(), event.eventId());
            default -> Responses.ok(res, event.eventId(), endpoint.isSegment());
          }
        },
        err -> fail(p.outcome(), req, spoolError(err)));
  }

  /** Splits the batch body; null when it is refused (the answer is sent). */
  private BatchItems.Batch splitBatch(Pending p, BodyDecoder.Decoded body) {
    try {
      return BatchItems.split(
          body.utf8(), p.endpoint().batchField(), config.batchItemsMax(), clients.jsonDepthMax());
    } catch (BatchItems.TooDeepException e) {
      fail(p.outcome(), p.req(), tooDeep(clients.jsonDepthMax()));
    } catch (BatchItems.InvalidBatchException e) {
      fail(p.outcome(), p.req(), new HttpError(400, "invalid_json", e.getMessage()));
    } catch (BatchItems.TooManyItemsException e) {
      fail(p.outcome(), p.req(), new HttpError(413, "too_many_items", e.getMessage()));
    }
    return null;
  }

  /**
   * Stores every item of a batch. The envelope's other fields ({@code sentAt}, {@code sent_at}, a
   * batch-wide {@code context}) describe every item, so they are kept with each, like form fields:
   * in the stored parameters.
   */
  private void acceptBatch(
      Pending p,
      RequestData data,
      String key,
      AuthResult.Authorized auth,
      BodyDecoder.Decoded body,
      BatchItems.Batch split) {
    HttpServerRequest req = p.req();
    String org = auth.organizationId();
    BatchItems.Batch batch = split != null ? split : splitBatch(p, body);
    if (batch == null) {
      return;
    }
    List<BatchItems.Item> items = batch.items();
    RequestData withEnvelope = data;
    if (!batch.envelope().isEmpty()) {
      if (data.query().size() + batch.envelope().size() > clients.paramsMax()) {
        fail(p.outcome(), req, BodyDecoder.tooManyFields(clients.paramsMax()));
        return;
      }
      List<Map.Entry<String, String>> params = new ArrayList<>(data.query());
      params.addAll(batch.envelope());
      withEnvelope = data.withQuery(params);
    }
    EventCapture.SharedRequest shared = capture.request(withEnvelope, key, auth.relay(), org);
    for (BatchItems.Item item : items) {
      if (item.json() != null
          && (ApiKeyExtractor.itemConflicts(item.json(), key)
              || p.endpoint() == Endpoint.POSTHOG
                  && ApiKeyExtractor.postHogTokenConflicts(item.json(), key))) {
        fail(p.outcome(), req, conflictingKeys());
        return;
      }
    }
    byte[] utf8 = body.utf8();
    byte[] sharedFields = EventCapture.sharedFields(shared);
    List<byte[]> records = new ArrayList<>(items.size());
    List<String> ids = new ArrayList<>(items.size());
    List<BatchItems.Item> rejected = new ArrayList<>();
    InvalidUtf8 invalid = body.invalid();
    // The batch text is the decoded body itself (not a form's data field): offsets map to bytes.
    boolean mapped = invalid != null && body.text() == invalid.text();
    boolean formBytesKept = false;
    for (BatchItems.Item item : items) {
      if (item.error() != null) {
        rejected.add(item);
      } else {
        byte[] exact = null;
        if (invalid != null && mapped && invalid.replacedWithin(item.start(), item.end())) {
          exact = invalid.slice(item.start(), item.end());
        } else if (invalid != null
            && !mapped
            && !formBytesKept
            && item.raw().indexOf('\uFFFD') >= 0) {
          // A form's data field was decoded from the bytes: item offsets do not lead back to
          // them, so the whole form's bytes are kept, once, with the first item they concern.
          exact = invalid.bytes();
          formBytesKept = true;
        }
        EventCapture.Encoded e =
            capture.encode(
                shared,
                sharedFields,
                org,
                p.endpoint(),
                utf8,
                item.start(),
                item.end() - item.start(),
                item.json(),
                exact);
        records.add(e.record());
        ids.add(e.eventId());
      }
    }
    if (records.isEmpty()) {
      fail(
          p.outcome(),
          req,
          new HttpError(
              400,
              "nothing_accepted",
              items.isEmpty()
                  ? "the batch holds no events"
                  : "no item of the batch is a JSON object"));
      return;
    }
    if (overLimit(p, org, records.size())) {
      return;
    }
    boolean segment = p.endpoint().isSegment();
    append(
        records,
        p.ctx(),
        () -> {
          metrics.accepted(p.outcome().endpoint, records.size());
          if (!rejected.isEmpty()) {
            metrics.rejected(p.outcome().endpoint, "not_an_object", rejected.size());
          }
          Responses.json(req.response(), 200, batchAnswer(ids, rejected, segment));
        },
        err -> fail(p.outcome(), req, spoolError(err)));
  }

  /**
   * The body's encoding: the header's, or for PostHog SDKs, which send gzip as {@code text/plain}
   * with no header, gzip when the query says {@code compression=gzip-js} or the bytes are gzip's.
   */
  private static String contentEncoding(Pending p, byte[] raw) {
    String header = p.req().getHeader("content-encoding");
    if (header != null || p.endpoint() != Endpoint.POSTHOG) {
      return header;
    }
    String compression = UrlEncoding.first(p.query(), "compression");
    boolean gzipBytes = raw.length > 2 && raw[0] == (byte) 0x1f && raw[1] == (byte) 0x8b;
    return gzipBytes || "gzip-js".equals(compression) || "gzip".equals(compression) ? "gzip" : null;
  }

  /** True for a PostHog body that is one event object rather than a batch. */
  private static boolean singlePostHogEvent(Endpoint endpoint, byte[] utf8) {
    if (endpoint != Endpoint.POSTHOG || !JsonFields.startsAsObject(utf8)) {
      return false;
    }
    JsonFields f = JsonFields.parse(utf8);
    return f != null && !f.has("batch");
  }

  /** Answers 429 when the organization is over its event rate. */
  private boolean overLimit(Pending p, String org, int events) {
    long wait = limits.admit(org, events);
    if (wait > 0) {
      fail(
          p.outcome(),
          p.req(),
          HttpError.rateLimited("the organization is over its event rate; retry later", wait));
    }
    return wait > 0;
  }

  private static String batchAnswer(
      List<String> events, List<BatchItems.Item> rejected, boolean segment) {
    StringBuilder sb = new StringBuilder(64 + events.size() * 40);
    sb.append("{\"status\":\"ok\",");
    if (segment) {
      sb.append("\"success\":true,");
    }
    sb.append("\"accepted\":").append(events.size());
    sb.append(",\"rejected\":").append(rejected.size()).append(",\"event_ids\":[");
    for (int i = 0; i < events.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      // Event ids are canonical UUIDs (hex digits and dashes): nothing to escape.
      sb.append('"').append(events.get(i)).append('"');
    }
    sb.append("],\"errors\":[");
    for (int i = 0; i < rejected.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append("{\"index\":").append(rejected.get(i).index()).append(",\"error\":");
      JsonText.quote(sb, rejected.get(i).error()).append('}');
    }
    return sb.append("]}").toString();
  }

  private static HttpError spoolError(Throwable err) {
    Throwable e =
        err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (e instanceof RecordTooLargeException) {
      return HttpError.tooLarge(e.getMessage());
    }
    if (e instanceof SpoolFullException) {
      return HttpError.unavailable("the service is at capacity: " + e.getMessage(), 1);
    }
    log.error("Spool append failed", e);
    return HttpError.unavailable("cannot store events durably now", 5);
  }

  /** True when the client asked for the GIF: format=gif, or an Accept that prefers images. */
  static boolean wantsGif(RequestData data) {
    String format = data.param("format");
    if (format != null) {
      return format.equalsIgnoreCase("gif") || format.equalsIgnoreCase("image");
    }
    String accept = data.header("accept");
    if (accept == null || accept.isBlank()) {
      return false;
    }
    String best = null;
    double bestQ = -1;
    for (String part : accept.split(",")) {
      String[] params = part.trim().split(";");
      String type = params[0].trim().toLowerCase(java.util.Locale.ROOT);
      double q = 1.0;
      for (int i = 1; i < params.length; i++) {
        String p = params[i].trim();
        if (p.startsWith("q=")) {
          try {
            q = Double.parseDouble(p.substring(2));
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      if (q > bestQ) {
        bestQ = q;
        best = type;
      }
    }
    return best != null && best.startsWith("image/");
  }

  private RequestData requestData(
      HttpServerRequest req,
      long receivedAt,
      List<Map.Entry<String, String>> params,
      List<Map.Entry<String, String>> headers) {
    String peer = peer(req);
    String url = urls.of(req, capture.trustsPeer(peer));
    return new RequestData(req.method().name(), url, headers, params, peer, receivedAt);
  }

  /** Runs the callbacks on the request's context; at once when the stage is already complete. */
  private static <T> void whenDone(
      CompletionStage<T> stage, Context ctx, Consumer<T> onOk, Consumer<Throwable> onErr) {
    CompletableFuture<T> f = stage.toCompletableFuture();
    if (f.isDone() && !f.isCompletedExceptionally()) {
      onOk.accept(f.join());
      return;
    }
    Future.fromCompletionStage(stage, ctx)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                onOk.accept(ar.result());
              } else {
                onErr.accept(ar.cause());
              }
            });
  }

  /** Appends the events; the outcome runs on the request's event loop ({@link LoopAppends}). */
  private void append(List<byte[]> records, Context ctx, Runnable onOk, Consumer<Throwable> onErr) {
    LoopAppends.append(spool, records, ctx, onOk, onErr);
  }
}
