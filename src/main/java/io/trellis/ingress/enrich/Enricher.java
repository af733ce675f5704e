package io.trellis.ingress.enrich;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.Enrichment;
import io.trellis.ingress.event.EventField;
import io.trellis.ingress.event.TrafficEvent;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Derives the {@link Enrichment} of a stored event: from the event alone (its headers, query, body,
 * address and receipt time), never changing it, so raw data stays raw and the same event always
 * gives the same columns. Runs on the sink path, after the event is durable: the capture path's
 * cost does not change with the enrichments switched on (see RATIONALE.md). Thread-safe.
 */
public final class Enricher implements Closeable, Function<TrafficEvent, Enrichment> {
  private final EnrichConfig config;
  private final EventTimes times;
  private final Referrers referrers;
  private final UserAgents userAgents;
  private final GeoPlaces geo;

  private Enricher(
      EnrichConfig config,
      EventTimes times,
      Referrers referrers,
      UserAgents userAgents,
      GeoPlaces geo) {
    this.config = config;
    this.times = times;
    this.referrers = referrers;
    this.userAgents = userAgents;
    this.geo = geo;
  }

  /**
   * Loads what the configuration names (the referrer lists, the GeoIP databases, the user agent
   * patterns); fails with the file's name when one cannot be read.
   */
  public static Enricher open(EnrichConfig config) throws IOException {
    requireNonNull(config, "config is null");
    Referrers referrers = null;
    if (config.referrer()) {
      referrers =
          config.referrerFile().isPresent()
              ? loadReferrers(Path.of(config.referrerFile().get()))
              : Referrers.builtIn();
    }
    UserAgents agents = config.userAgent() ? new UserAgents(config.userAgentCacheSize()) : null;
    List<GeoIp> geo = new ArrayList<>();
    for (String file : config.geoipDatabases()) {
      geo.add(GeoIp.open(Path.of(file)));
    }
    return new Enricher(
        config,
        new EventTimes(config.maxFuture(), config.maxPast()),
        referrers,
        agents,
        new GeoPlaces(geo, config.geoipCacheSize()));
  }

  private static Referrers loadReferrers(Path file) throws IOException {
    try {
      return Referrers.load(file);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public Enrichment apply(TrafficEvent event) {
    return enrich(event);
  }

  public Enrichment enrich(TrafficEvent event) {
    if (!config.enabled()) {
      return Enrichment.none(event);
    }
    EventFields f = new EventFields(event);
    EventTimes.Times t = times.of(f);
    Identities.Ids ids = Identities.of(f);
    Attribution.Terms terms = Attribution.of(f);
    String referrerClass = referrers == null ? "" : referrerClass(f);
    UserAgents.Agent agent =
        userAgents == null ? UserAgents.Agent.NONE : userAgents.of(event.userAgent());
    GeoIp.Place place = geo.of(event.ip());
    return new Enrichment(
        t.clientTimestamp(),
        t.sentAt(),
        t.eventTime(),
        t.source(),
        ids.userId(),
        ids.anonymousId(),
        terms.term(),
        terms.content(),
        referrerClass,
        agent.browser(),
        agent.browserVersion(),
        agent.os(),
        agent.deviceClass(),
        agent.isBot(),
        place.country(),
        place.region(),
        place.city(),
        place.asn(),
        config.privacySignal() ? PrivacySignals.of(f) : "");
  }

  /**
   * {@link Referrers#classify} of the event: the hosts of its referrer and page are cut only when
   * its click id and medium do not class it already.
   */
  private String referrerClass(EventFields f) {
    TrafficEvent event = f.event();
    String byCampaign = referrers.byCampaign(event.clickId(), event.medium());
    if (byCampaign != null) {
      return byCampaign;
    }
    return referrers.byHosts(EventFields.host(referrer(f)), EventFields.host(f.pageUrl()));
  }

  /**
   * The referrer of the page: what the body reports (trellis.js's {@code referrer}, PostHog's
   * {@code $referrer}, an SDK's {@code context.page.referrer}), else the stored {@code referer}. A
   * tracker's request carries the page itself as its {@code Referer} header, so the header alone
   * would make every such visit internal.
   */
  private static String referrer(EventFields f) {
    String r = f.body(EventField.REFERRER);
    if (r == null) {
      r = f.body(EventField.PROPERTIES_POSTHOG_REFERRER);
    }
    if (r == null) {
      r = f.body(EventField.PROPERTIES_REFERRER);
    }
    if (r == null) {
      r = f.body(EventField.CONTEXT_PAGE_REFERRER);
    }
    return r == null || r.equals("$direct") ? f.event().referer() : r;
  }

  @Override
  public void close() throws IOException {
    geo.close();
  }

  /** What runs, for the start-up log: a line a person reads, without paths' contents. */
  @Override
  public String toString() {
    if (!config.enabled()) {
      return "off (enrich.enabled=false): no derived column is filled";
    }
    return "user agent "
        + (userAgents != null ? "on" : "off")
        + ", referrer class "
        + (referrers != null ? "on" : "off")
        + ", geo "
        + (geo.isEmpty() ? "off" : "from " + geo)
        + ", privacy signal "
        + (config.privacySignal() ? "on" : "off");
  }
}
