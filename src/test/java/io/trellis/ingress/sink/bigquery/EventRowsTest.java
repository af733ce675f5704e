package io.trellis.ingress.sink.bigquery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import io.trellis.ingress.event.TrafficEvent;
import org.junit.jupiter.api.Test;

class EventRowsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static TrafficEvent withBody(String body) {
    return new TrafficEvent(
        "org",
        "id-1",
        1_000L,
        "POST",
        "http://h/events",
        "{\"a\":\"1\"}",
        "{}",
        body,
        "1.2.3.4",
        "ua",
        "",
        "",
        "",
        "",
        "",
        "",
        "");
  }

  @Test
  void aJsonBodyIsNestedAndAnythingElseIsKeptAsText() throws Exception {
    assertThat(
            JSON.readTree(EventRows.EVENTS.requestData(withBody("{\"x\":[1,{\"y\":null}]}")))
                .path("body")
                .toString())
        .isEqualTo("{\"x\":[1,{\"y\":null}]}");
    assertThat(JSON.readTree(EventRows.EVENTS.requestData(withBody(" 42 "))).path("body").asInt())
        .isEqualTo(42);
    for (String text :
        new String[] {"", "a=1&b=2", "{\"x\":1} trailing", "{\"x\":", "[1,2", "nul"}) {
      JsonNode body = JSON.readTree(EventRows.EVENTS.requestData(withBody(text))).path("body");
      assertThat(body.isTextual()).as(text).isTrue();
      assertThat(body.asText()).isEqualTo(text);
    }
  }

  @Test
  void aBodyNestedDeeperThanBigQueryAcceptsIsKeptAsText() throws Exception {
    String deep =
        "[".repeat(EventRows.MAX_BODY_DEPTH + 1) + "]".repeat(EventRows.MAX_BODY_DEPTH + 1);
    String ok = "[".repeat(EventRows.MAX_BODY_DEPTH) + "]".repeat(EventRows.MAX_BODY_DEPTH);
    assertThat(EventRows.isJson(ok)).isTrue();
    assertThat(EventRows.isJson(deep)).isFalse();
    assertThat(JSON.readTree(EventRows.EVENTS.requestData(withBody(deep))).path("body").asText())
        .isEqualTo(deep);
  }

  @Test
  void theEncodedRowDecodesWithTheWriterSchema() throws Exception {
    DynamicMessage m =
        DynamicMessage.parseFrom(
            EventRows.EVENTS.descriptor(), EventRows.EVENTS.encode(withBody("{}"), 2_000L));
    FieldDescriptor ts = EventRows.EVENTS.descriptor().findFieldByName("timestamp");
    assertThat(m.getField(ts)).isEqualTo(1_000_000L);
    assertThat(m.getField(EventRows.EVENTS.descriptor().findFieldByName("ingested_at")))
        .isEqualTo(2_000_000L);
    assertThat(m.hasField(EventRows.EVENTS.descriptor().findFieldByName("campaign"))).isFalse();
    assertThat(EventRows.EVENTS.schema().getProtoDescriptor().getFieldCount()).isEqualTo(30);
  }
}
