package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.enrich.EnrichConfig;
import io.trellis.ingress.enrich.Enricher;
import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.Enrichments;
import io.trellis.ingress.event.EventLines;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkBatch;
import io.trellis.ingress.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two sinks of one spool write the derived columns of each event from one enrichment. */
class SharedEnrichmentTest {
  /* Every column but the write time, which differs between two writes of one event. */
  private static final List<Column> COLUMNS =
      EventSchema.EVENTS.columns().stream().filter(c -> !c.name().equals("ingested_at")).toList();

  @TempDir Path dir;

  @AfterEach
  void uninstall() {
    Enrichments.install(Enrichment::none);
  }

  /** Renders every event as the files sink and ClickHouse do, one line per event. */
  private static final class LinesSink implements Sink {
    private final String name;
    private final EventLines lines = new EventLines(COLUMNS, false);
    final List<String> written = new ArrayList<>();

    LinesSink(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public synchronized void write(SinkBatch batch) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        lines.writeAll(out, batch.events(), 0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      written.addAll(List.of(out.toString(StandardCharsets.UTF_8).split("\n")));
    }

    synchronized List<String> lines() {
      return List.copyOf(written);
    }
  }

  private static List<TrafficEvent> events(int n) {
    List<TrafficEvent> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          new TrafficEvent(
              "acme",
              "e" + i,
              1_780_000_000_000L + i,
              "POST",
              "http://localhost/events",
              "{\"user-agent\":\"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101"
                  + " Firefox/133.0\",\"sec-gpc\":\"1\"}",
              "{\"utm_term\":[\"shoes" + i + "\"]}",
              "{\"event\":\"pageview\",\"userId\":\"u"
                  + i
                  + "\",\"anonymousId\":\"a"
                  + i
                  + "\",\"sentAt\":\"2026-05-28T20:26:40.000Z\",\"timestamp\":"
                  + "\"2026-05-28T20:26:39.000Z\",\"url\":\"https://shop.example/p\","
                  + "\"referrer\":\"https://www.google.com/search?q=x\"}",
              "81.2.69.142",
              "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
              "https://www.google.com/",
              "pageview",
              "",
              "",
              "",
              "",
              ""));
    }
    return out;
  }

  @Test
  void eachEventIsEnrichedOnceForTwoSinksAndBothWriteTheSameColumns() throws Exception {
    List<TrafficEvent> sent = events(500);
    try (Enricher enricher = Enricher.open(EnrichConfig.defaults())) {
      // What each event's line is when it is enriched on its own, without the spool.
      Enrichments.install(enricher);
      List<String> expected = new ArrayList<>();
      EventLines reference = new EventLines(COLUMNS, false);
      for (TrafficEvent e : sent) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        reference.writeAll(out, List.of(e), 0);
        expected.add(out.toString(StandardCharsets.UTF_8).stripTrailing());
      }
      assertThat(expected.get(7)).contains("\"user_id\":\"u7\"", "\"term\":\"shoes7\"");

      Map<String, AtomicInteger> computed = new ConcurrentHashMap<>();
      Enrichments.install(
          e -> {
            computed.computeIfAbsent(e.eventId(), k -> new AtomicInteger()).incrementAndGet();
            return enricher.enrich(e);
          });
      LinesSink one = new LinesSink("one");
      LinesSink two = new LinesSink("two");
      try (DiskSpool spool =
          DiskSpool.open(
              dir.resolve("spool"),
              dir.resolve("dead-letters"),
              config(),
              List.of(one, two),
              new SimpleMeterRegistry())) {
        spool.start();
        for (int i = 0; i < sent.size(); i += 50) {
          spool.append(sent.subList(i, i + 50)).get();
        }
        Await.until(() -> one.lines().size() == 500 && two.lines().size() == 500);
      }

      assertThat(computed).hasSize(500);
      assertThat(computed.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
      assertThat(one.lines()).containsExactlyElementsOf(expected);
      assertThat(two.lines()).containsExactlyElementsOf(expected);
    }
  }
}
