package io.trellis.ingress.http;

import io.trellis.ingress.base.JsonText;
import io.trellis.ingress.capture.EventCapture;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The configuration calls browser SDKs make before they send events, answered so that they send
 * events to the service and load nothing else:
 *
 * <ul>
 *   <li>PostHog's remote config ({@code GET /array/TOKEN/config} and {@code config.js}) and feature
 *       flags ({@code /flags/}, {@code /decide/}): no flags, no session recording, no surveys, no
 *       site apps, nothing for the SDK to load; gzip-js compression supported;
 *   <li>RudderStack's source configuration ({@code GET /sourceConfig/}): an enabled source with no
 *       device-mode destinations;
 *   <li>Segment's project settings ({@code GET /v1/projects/KEY/settings}, what analytics.js
 *       fetches from its CDN): the Segment.io destination pointed back at the service, no other
 *       destination, no remote plugins, no metrics.
 * </ul>
 *
 * The PostHog and RudderStack answers are the same for every caller and store nothing, so they need
 * no key: a wrong key is refused when its first event arrives. Segment's settings name the key they
 * are for, which analytics.js then sends with every event, so the key in their path is checked
 * first. A PostHog token appears in the config script only when it consists of key characters, so
 * nothing a caller puts in the path can become script.
 */
final class SdkConfig {
  private static final Set<HttpMethod> GET = Set.of(HttpMethod.GET);
  private static final Set<HttpMethod> GET_POST = Set.of(HttpMethod.GET, HttpMethod.POST);
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_\\-]{1,200}");
  private static final String ARRAY_PREFIX = "/array/";
  private static final String SEGMENT_PREFIX = "/v1/projects/";
  private static final String SEGMENT_SUFFIX = "/settings";

  /**
   * PostHog's remote config: nothing on; capture as usual. It has no {@code surveys} field:
   * posthog-js loads its surveys script ({@code /static/surveys.js}) whenever the field is there,
   * even as {@code false}, and without it loads nothing.
   */
  static final String POSTHOG_CONFIG =
      "{\"supportedCompression\":[\"gzip\",\"gzip-js\"],\"hasFeatureFlags\":false,"
          + "\"sessionRecording\":false,\"heatmaps\":false,"
          + "\"productTours\":false,\"captureDeadClicks\":false,\"capturePerformance\":false,"
          + "\"autocaptureExceptions\":false,\"autocapture_opt_out\":false,"
          + "\"elementsChainAsString\":true,\"siteApps\":[],\"toolbarParams\":{},"
          + "\"defaultIdentifiedOnly\":true}";

  /** PostHog's flags answer: no flags; the same config for SDKs that read it from here. */
  static final String POSTHOG_FLAGS =
      "{\"flags\":{},\"featureFlags\":{},\"featureFlagPayloads\":{},"
          + "\"errorsWhileComputingFlags\":false,\"quotaLimited\":[],"
          + POSTHOG_CONFIG.substring(1);

  /** RudderStack's source configuration: enabled, no destinations loaded in the page. */
  static final String RUDDER_SOURCE_CONFIG =
      "{\"isHosted\":false,\"source\":{\"id\":\"trellis-ingress\",\"name\":\"trellis-ingress\","
          + "\"workspaceId\":\"trellis-ingress\",\"enabled\":true,\"config\":{},"
          + "\"destinations\":[]}}";

  private SdkConfig() {}

  /** The route of a configuration path (for preflights), or null. */
  static Routes.Route route(String path) {
    if (path == null) {
      return null;
    }
    return switch (path) {
      case "/flags", "/flags/", "/decide", "/decide/" -> new Routes.Route(path, null, GET_POST);
      case "/sourceConfig", "/sourceConfig/" -> new Routes.Route(path, null, GET);
      default ->
          arrayToken(path) != null || segmentKey(path) != null
              ? new Routes.Route(path, null, GET)
              : null;
    };
  }

  /** Answers a configuration call whose route is {@link #route}'s and whose body was read. */
  static void answer(HttpServerRequest req) {
    String path = req.path();
    if (path.startsWith("/sourceConfig")) {
      Responses.json(req.response(), 200, RUDDER_SOURCE_CONFIG);
    } else if (path.startsWith(ARRAY_PREFIX)) {
      if (path.endsWith(".js")) {
        String script =
            "(function(){var w=window;w._POSTHOG_REMOTE_CONFIG=w._POSTHOG_REMOTE_CONFIG||{};"
                + "w._POSTHOG_REMOTE_CONFIG[\""
                + arrayToken(path)
                + "\"]={config:"
                + POSTHOG_CONFIG
                + ",siteApps:[]};})();";
        req.response()
            .putHeader("Content-Type", "text/javascript")
            .putHeader("Cache-Control", "no-store")
            .setStatusCode(200)
            .end(script);
      } else {
        Responses.json(req.response(), 200, POSTHOG_CONFIG);
      }
    } else {
      Responses.json(req.response(), 200, POSTHOG_FLAGS);
    }
  }

  /**
   * The key of {@code /v1/projects/KEY/settings}, Segment's settings path, or null for any other
   * path. Only key characters are taken: the key is echoed in the answer.
   */
  static String segmentKey(String path) {
    if (path == null
        || !path.startsWith(SEGMENT_PREFIX)
        || !path.endsWith(SEGMENT_SUFFIX)
        || path.length() <= SEGMENT_PREFIX.length() + SEGMENT_SUFFIX.length()) {
      return null;
    }
    String key = path.substring(SEGMENT_PREFIX.length(), path.length() - SEGMENT_SUFFIX.length());
    return TOKEN.matcher(key).matches() ? key : null;
  }

  /**
   * Segment's settings for an authorized key: the Segment.io destination sends events to {@code
   * host/v1} over {@code protocol}, nothing else is loaded, and the library's own metrics (sent to
   * Segment's API unless the sample rate is 0) are off.
   *
   * @param host the host (and port, and the path a proxy serves the service under) the caller
   *     reached, where the events are to go
   * @param protocol {@code http} or {@code https}
   */
  static String segmentSettings(String key, String host, String protocol) {
    StringBuilder sb = new StringBuilder(512);
    sb.append("{\"integrations\":{\"Segment.io\":{\"apiKey\":");
    JsonText.quote(sb, key).append(",\"apiHost\":");
    JsonText.quote(sb, host + "/v1").append(",\"protocol\":");
    JsonText.quote(sb, protocol);
    return sb.append(
            ",\"unbundledIntegrations\":[],\"addBundledMetadata\":true,"
                + "\"maybeBundledConfigIds\":{}}},"
                + "\"plan\":{\"track\":{\"__default\":{\"enabled\":true,\"integrations\":{}}},"
                + "\"identify\":{\"__default\":{\"enabled\":true}},"
                + "\"group\":{\"__default\":{\"enabled\":true}}},"
                + "\"edgeFunction\":{},\"analyticsNextEnabled\":true,\"middlewareSettings\":{},"
                + "\"enabledMiddleware\":{},\"metrics\":{\"sampleRate\":0},"
                + "\"legacyVideoPluginsEnabled\":false,\"remotePlugins\":[]}")
        .toString();
  }

  /** The token of {@code /array/TOKEN/config(.js)}, or null for any other path. */
  private static String arrayToken(String path) {
    if (!path.startsWith(ARRAY_PREFIX)) {
      return null;
    }
    String rest = path.substring(ARRAY_PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return null;
    }
    String tail = rest.substring(slash);
    String token = rest.substring(0, slash);
    return (tail.equals("/config") || tail.equals("/config.js")) && TOKEN.matcher(token).matches()
        ? token
        : null;
  }

  /** The path with the token of a PostHog or Segment config path replaced by [redacted]. */
  static String loggable(String path) {
    if (path != null && path.startsWith(SEGMENT_PREFIX) && path.endsWith(SEGMENT_SUFFIX)) {
      return SEGMENT_PREFIX + EventCapture.REDACTED + SEGMENT_SUFFIX;
    }
    if (path == null || !path.startsWith(ARRAY_PREFIX)) {
      return path;
    }
    int slash = path.indexOf('/', ARRAY_PREFIX.length());
    return slash < 0
        ? ARRAY_PREFIX + EventCapture.REDACTED
        : ARRAY_PREFIX + EventCapture.REDACTED + path.substring(slash);
  }
}
