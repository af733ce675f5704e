package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SnowplowEventsTest {
  private static final String UE =
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
          + "\"data\":{\"schema\":\"iglu:com.acme/checkout/jsonschema/1-0-0\",\"data\":{}}}";

  @Test
  void eventCodesGetSnowplowsEventNames() {
    assertThat(SnowplowEvents.eventType("pv", null, null)).isEqualTo("page_view");
    assertThat(SnowplowEvents.eventType("pp", null, null)).isEqualTo("page_ping");
    assertThat(SnowplowEvents.eventType("se", null, null)).isEqualTo("event");
    assertThat(SnowplowEvents.eventType("tr", null, null)).isEqualTo("transaction");
    assertThat(SnowplowEvents.eventType("ti", null, null)).isEqualTo("transaction_item");
    assertThat(SnowplowEvents.eventType("xx", null, null)).isEqualTo("xx");
    assertThat(SnowplowEvents.eventType(null, UE, null)).isNull();
  }

  @Test
  void selfDescribingEventsAreNamedByTheirSchema() {
    String urlSafe =
        Base64.getUrlEncoder().withoutPadding().encodeToString(UE.getBytes(StandardCharsets.UTF_8));
    String standard = Base64.getEncoder().encodeToString(UE.getBytes(StandardCharsets.UTF_8));

    assertThat(SnowplowEvents.eventType("ue", UE, null)).isEqualTo("checkout");
    assertThat(SnowplowEvents.eventType("ue", null, urlSafe)).isEqualTo("checkout");
    assertThat(SnowplowEvents.eventType("ue", null, standard)).isEqualTo("checkout");
  }

  @Test
  void unreadableSelfDescribingEventsKeepTheirCode() {
    assertThat(SnowplowEvents.eventType("ue", null, null)).isEqualTo("ue");
    assertThat(SnowplowEvents.eventType("ue", "{not json", null)).isEqualTo("ue");
    assertThat(SnowplowEvents.eventType("ue", null, "!!!")).isEqualTo("ue");
    assertThat(SnowplowEvents.eventType("ue", "{\"data\":{\"schema\":\"no-slashes\"}}", null))
        .isEqualTo("ue");
  }
}
