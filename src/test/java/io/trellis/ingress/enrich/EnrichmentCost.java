package io.trellis.ingress.enrich;

import io.trellis.ingress.capture.Endpoint;
import io.trellis.ingress.event.EventField;
import io.trellis.ingress.event.TrafficEvent;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * CPU time per event of each enrichment, on this thread (not wall time: the machine is shared).
 * Run: {@code java -cp target/test-classes:target/classes:$(cat target/classpath.txt)
 * io.trellis.ingress.enrich.EnrichmentCost [GEOIP.mmdb ...]}. Not a test.
 */
public final class EnrichmentCost {
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  /* Enough calls (400,000) for the JIT to have compiled the path before it is measured. */
  private static final long WARM_UP_NANOS = TimeUnit.SECONDS.toNanos(3);
  private static final int WARM_UP_ROUNDS = 200;

  private static final String[] AGENTS = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        + " Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
        + " Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
        + " Chrome/131.0.6778.39 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
        + " Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  };

  private EnrichmentCost() {}

  public static void main(String[] args) throws Exception {
    long now = System.currentTimeMillis();
    List<TrafficEvent> events = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      String ua = AGENTS[i % AGENTS.length];
      String ip = "81.2." + (i % 200) + "." + (i % 250);
      events.add(
          switch (i % 3) {
            case 0 ->
                Captured.post(
                    Endpoint.EVENTS,
                    "{\"event\":\"pageview\",\"event_id\":\"0193a0c4-7b1e-7cde-8f00-"
                        + String.format("%012d", i)
                        + "\",\"visitor_id\":\"v-"
                        + i
                        + "\",\"session_id\":\"s\",\"sent_at\":\"2026-12-04T16:59:59.000Z\","
                        + "\"url\":\"https://shop.example/p?utm_source=google&utm_medium=cpc"
                        + "&utm_term=shoes\",\"referrer\":\"https://www.google.com/\","
                        + "\"title\":\"Shoes\",\"screen\":\"1920x1080\",\"language\":\"en\"}",
                    now,
                    "User-Agent",
                    ua,
                    "Referer",
                    "https://www.google.com/");
            case 1 ->
                Captured.post(
                    Endpoint.SEGMENT_TRACK,
                    "{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u"
                        + i
                        + "\",\"anonymousId\":\"a\",\"properties\":{\"total\":42.5},"
                        + "\"originalTimestamp\":\"2026-12-04T16:59:58.000Z\","
                        + "\"sentAt\":\"2026-12-04T16:59:59.000Z\",\"context\":{\"campaign\":"
                        + "{\"source\":\"newsletter\",\"medium\":\"email\"}}}",
                    now,
                    "User-Agent",
                    ua);
            default ->
                Captured.get(
                    Endpoint.PIXEL,
                    "event=open&utm_source=newsletter&utm_medium=email&uid=s" + i,
                    now,
                    ip,
                    "User-Agent",
                    ua,
                    "Sec-GPC",
                    "1");
          });
    }
    EnrichConfig d = EnrichConfig.defaults();
    Referrers referrers = Referrers.builtIn();
    long t0 = CPU.getCurrentThreadCpuTime();
    UserAgents agents = new UserAgents(d.userAgentCacheSize());
    double uaStartMs = (CPU.getCurrentThreadCpuTime() - t0) / 1e6;
    EventTimes times = new EventTimes(d.maxFuture(), d.maxPast());
    List<EventFields> fields = events.stream().map(EventFields::new).toList();
    fields.forEach(EnrichmentCost::read);
    List<GeoIp> geo = new ArrayList<>();
    for (String a : args) {
      geo.add(GeoIp.open(java.nio.file.Path.of(a)));
    }

    report("read the event (body, query, headers)", events, e -> read(new EventFields(e)));
    report("time (client_timestamp, sent_at, event_time)", fields, times::of);
    report("identities (user_id, anonymous_id)", fields, Identities::of);
    report("term, content", fields, Attribution::of);
    report(
        "referrer_class",
        fields,
        f ->
            referrers.classify(
                EventFields.host(f.event().referer()),
                EventFields.host(f.pageUrl()),
                f.event().clickId(),
                f.event().medium()));
    report(
        "user agent, cached (" + AGENTS.length + " strings)",
        events,
        e -> agents.of(e.userAgent()));
    UserAgents cold = new UserAgents(1); // remembers nothing: every call parses
    List<String> distinct = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      distinct.add(
          AGENTS[i % AGENTS.length].replace("17_6", "17_" + i).replace("131.0", "131." + i));
    }
    report("user agent, new string each time", distinct, cold::of);
    report("privacy_signal", fields, PrivacySignals::of);
    if (!geo.isEmpty()) {
      report(
          "geo, new address (" + geo.size() + " database(s))",
          events,
          e -> {
            for (GeoIp g : geo) {
              g.lookup(e.ip());
            }
          });
      GeoPlaces places = new GeoPlaces(geo, d.geoipCacheSize());
      report("geo, address seen before (cache hit)", events, e -> places.of(e.ip()));
    }
    Enricher all = Enricher.open(args.length == 0 ? d : d.withGeoipDatabases(List.of(args)));
    report("everything together (Enricher.enrich)", events, all::enrich);
    // Every address new: each event's own, as in traffic whose visitors send one event each.
    Enricher uncached =
        Enricher.open(
            new EnrichConfig(
                true,
                true,
                d.userAgentCacheSize(),
                true,
                d.referrerFile(),
                List.of(args),
                1,
                true,
                d.maxFuture(),
                d.maxPast()));
    report("everything together, geo address new each time", events, uncached::enrich);
    System.out.printf("user agent parser start-up: %.0f ms CPU%n", uaStartMs);
  }

  /** Reads the body, the query and the headers (each is read when first asked for). */
  private static void read(EventFields f) {
    f.body(EventField.URL);
    f.param(EventField.URL);
    f.header(EventFields.Header.DNT);
  }

  private static <T> void report(String what, List<T> items, Consumer<T> work) {
    // Warm-up (the JIT compiles the path), then the median of five measured rounds. The warm-up
    // also lasts some seconds: on a busy machine the compilers finish a large method (the body
    // scanner's) long after the calls that queued it.
    long warmUntil = System.nanoTime() + WARM_UP_NANOS;
    for (int r = 0; r < WARM_UP_ROUNDS || System.nanoTime() < warmUntil; r++) {
      items.forEach(work);
    }
    double[] rounds = new double[5];
    for (int r = 0; r < rounds.length; r++) {
      long start = CPU.getCurrentThreadCpuTime();
      items.forEach(work);
      rounds[r] = (CPU.getCurrentThreadCpuTime() - start) / 1e3 / items.size();
    }
    java.util.Arrays.sort(rounds);
    System.out.printf("%-52s %8.2f us CPU per event%n", what, rounds[2]);
  }
}
