package io.trellis.ingress.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

class JsonLogEncoderTest {
  @Test
  void anEventBecomesOneLineWithTheFormattedMessageFieldsAndTheException() throws Exception {
    LoggerContext ctx = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    LoggingEvent e =
        new LoggingEvent(
            "x",
            ctx.getLogger("io.trellis.ingress.spool.DiskSpool"),
            Level.WARN,
            "Sink {} is down: {}",
            new IOException("connection refused\nsecond line"),
            new Object[] {"clickhouse", "refused"});
    e.setTimeStamp(1_796_393_861_235L);
    e.setKeyValuePairs(
        List.of(new KeyValuePair("sink", "clickhouse"), new KeyValuePair("lag_events", 120L)));
    JsonLogEncoder encoder = new JsonLogEncoder();

    String line = new String(encoder.encode(e), StandardCharsets.UTF_8);

    assertThat(line).endsWith("\n").doesNotContain("\n\t").hasLineCount(1);
    JsonNode n = new ObjectMapper().readTree(line);
    assertThat(n.path("timestamp").asText()).isEqualTo("2026-12-04T14:17:41.235Z");
    assertThat(n.path("level").asText()).isEqualTo("WARN");
    assertThat(n.path("logger").asText()).isEqualTo("io.trellis.ingress.spool.DiskSpool");
    assertThat(n.path("message").asText()).isEqualTo("Sink clickhouse is down: refused");
    assertThat(n.path("sink").asText()).isEqualTo("clickhouse");
    assertThat(n.path("lag_events").asLong()).isEqualTo(120);
    assertThat(n.path("exception").asText())
        .startsWith("java.io.IOException: connection refused")
        .contains("at io.trellis.ingress.ops.JsonLogEncoderTest");
  }
}
