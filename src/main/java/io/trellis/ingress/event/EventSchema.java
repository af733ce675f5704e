package io.trellis.ingress.event;

import static io.trellis.ingress.event.ColumnType.ID;
import static io.trellis.ingress.event.ColumnType.JSON_OBJECT;
import static io.trellis.ingress.event.ColumnType.KEYWORD;
import static io.trellis.ingress.event.ColumnType.PAYLOAD;
import static io.trellis.ingress.event.ColumnType.STRING;
import static io.trellis.ingress.event.ColumnType.TEXT;
import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.EventCodec.Field;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The stored event: its columns, in order, with their types. Every store renders this list and
 * nothing else: the files sink's NDJSON lines and the dead letters ({@link EventLines}),
 * ClickHouse's table and rows, BigQuery's table and rows, and the README's table of what is stored.
 * A column is added here, once (see docs/schema.md); a table an earlier version created gains it at
 * start-up.
 *
 * <p>The order is the order of the file keys and of the ClickHouse columns; a column added after
 * the last one the previous version had is added {@code AFTER} it in ClickHouse. Immutable.
 */
public final class EventSchema {
  /** The BigQuery JSON column that holds the request as captured. */
  public static final String REQUEST_DATA = "request_data";

  /** The columns stored today. */
  public static final EventSchema EVENTS =
      new EventSchema(
          List.of(
              Column.field(
                      "organization_id",
                      STRING,
                      Field.ORGANIZATION_ID,
                      "the organization of the API key")
                  .withRequired(),
              Column.field(
                      "event_id",
                      ID,
                      Field.EVENT_ID,
                      "the client's `event_id` (or `messageId`, PostHog's `uuid`, Snowplow's `eid`)"
                          + " when it is a valid UUID, else a new time-ordered UUIDv7")
                  .withRequired(),
              Column.time(
                  "timestamp",
                  TrafficEvent::timestamp,
                  "receipt time, UTC, milliseconds (`2026-11-27T07:27:19.818Z`)"),
              request(Column.field("method", KEYWORD, Field.METHOD, "HTTP method")),
              request(
                  Column.field(
                      "url",
                      TEXT,
                      Field.URL,
                      "the full request URL the client used: scheme and host (behind a trusted"
                          + " proxy, those its `X-Forwarded-Proto` and `X-Forwarded-Host` or"
                          + " `Forwarded` name, the port its `X-Forwarded-Port` names; else the"
                          + " connection's and the `Host` header), no default port, path and query"
                          + " (after the path a trusted proxy's `X-Forwarded-Prefix` names);"
                          + " credentials removed")),
              request(
                  Column.field(
                      "headers",
                      JSON_OBJECT,
                      Field.HEADERS,
                      "every request header, lower-case names (repeated headers joined with `, `),"
                          + " credentials removed")),
              request(
                  Column.field(
                      "query_params",
                      JSON_OBJECT,
                      Field.QUERY_PARAMS,
                      "every query parameter and form field (a parameter given more than once"
                          + " becomes an array), and for a batch `{\"batch\":[…],\"sentAt\":…}` the"
                          + " envelope's other fields (a string as its value, anything else as its"
                          + " JSON text), credentials removed")),
              request(
                  Column.field(
                      "body",
                      PAYLOAD,
                      Field.BODY,
                      "the raw body as received (for `/batch`, the item's exact text); a body that"
                          + " is not JSON is stored as it is; bytes that are not valid UTF-8"
                          + " become U+FFFD here")),
              request(
                  Column.field(
                          "body_base64",
                          TEXT,
                          Field.BODY_BASE64,
                          "only when the body's bytes were not valid UTF-8 (Latin-1 without a"
                              + " charset, a truncated multi-byte sequence): the exact bytes,"
                              + " base64 (`jq -r .body_base64 … \\| base64 -d`); empty in"
                              + " ClickHouse otherwise")
                      .withOmitWhenEmpty()),
              request(
                  Column.field(
                      "ip",
                      STRING,
                      Field.IP,
                      "the socket peer; `X-Forwarded-For`, `Forwarded` and `X-Real-IP` only when"
                          + " the peer is a trusted proxy; the browser's address a server-side SDK"
                          + " relays when the key may relay it ([docs/clients.md](docs/clients.md))")),
              request(
                  Column.field(
                      "user_agent",
                      TEXT,
                      Field.USER_AGENT,
                      "from the header; for relay keys of the tracking SDKs, the browser's user"
                          + " agent")),
              request(
                  Column.field(
                      "referer",
                      TEXT,
                      Field.REFERER,
                      "from the header; for the tracking SDKs, the referrer they report")),
              Column.field(
                  "event_type",
                  KEYWORD,
                  Field.EVENT_TYPE,
                  "body `event_type`, `event` or `type`; else query `event_type` or `event`; else"
                      + " `event` (`/events`, `/batch`), `track` (`/track`), `pixel` (`/pixel`);"
                      + " Snowplow events by their `e` code and schema"),
              Column.field(
                  "click_id",
                  STRING,
                  Field.CLICK_ID,
                  "`click_id`/`clickid`, else the first ad-platform click id (`gclid`, `gbraid`,"
                      + " `wbraid`, `dclid`, `fbclid`, `msclkid`, `ttclid`, `li_fat_id`, `twclid`,"
                      + " `epik`, `ScCid`, `rdt_cid`, `yclid`, `qclid`, `tblci`, `irclickid`,"
                      + " `ef_id`, `s_kwcid`, `_kx`, …), looked for in the body, the query, and"
                      + " the query of a page URL in the body (`url`, `page_url`, `page`, else"
                      + " `properties.url`, PostHog's `properties.$current_url`, an SDK's"
                      + " `context.page.url`)"),
              Column.field(
                  "session_id",
                  STRING,
                  Field.SESSION_ID,
                  "`session_id`, `sessionId` or `sid` from body or query, PostHog's"
                      + " `properties.$session_id`, RudderStack's `context.sessionId`, else header"
                      + " `X-Session-Id`"),
              Column.field(
                  "source",
                  KEYWORD,
                  Field.SOURCE,
                  "`utm_source` or plain `source`, from the same places; for Segment and"
                      + " RudderStack SDKs also `context.campaign.source`"),
              Column.field(
                  "medium",
                  KEYWORD,
                  Field.MEDIUM,
                  "`utm_medium` or plain `medium`, from the same places; for Segment and"
                      + " RudderStack SDKs also `context.campaign.medium`"),
              Column.field(
                  "campaign",
                  STRING,
                  Field.CAMPAIGN,
                  "`utm_campaign` or plain `campaign`, from the same places; for Segment and"
                      + " RudderStack SDKs also `context.campaign.name`"),
              derived(
                  "term",
                  STRING,
                  Enrichment::term,
                  "`utm_term` or plain `term`, from the same places as `source`; for Segment and"
                      + " RudderStack SDKs also `context.campaign.term`"),
              derived(
                  "content",
                  STRING,
                  Enrichment::content,
                  "`utm_content` or plain `content`, from the same places; for Segment and"
                      + " RudderStack SDKs also `context.campaign.content`"),
              Column.optionalTime(
                  "client_timestamp",
                  e -> Enrichments.of(e).clientTimestamp(),
                  "the event's own time by the client's clock: body `originalTimestamp` or"
                      + " `timestamp`, else parameter `ts`, `t` or `timestamp`, Snowplow's `dtm`"
                      + " (ISO-8601, or epoch seconds or milliseconds); absent when none"),
              Column.optionalTime(
                  "sent_at",
                  e -> Enrichments.of(e).sentAt(),
                  "when the client sent the event, by the same clock: body `sentAt` or"
                      + " `sent_at` (trellis.js), parameter `sent_at` or `sentAt` (a batch envelope's), Snowplow's `stm`; absent"
                      + " when none"),
              Column.optionalTime(
                  "event_time",
                  e -> Enrichments.of(e).eventTime(),
                  "when the event happened: `timestamp - (sent_at - client_timestamp)`"
                      + " (the client's clock error cancels out), else `client_timestamp`, else"
                      + " the receipt time; the receipt time when the result is more than"
                      + " `enrich.time.max-future` ahead or `enrich.time.max-past` behind it"),
              derived(
                  "event_time_source",
                  KEYWORD,
                  Enrichment::eventTimeSource,
                  "how `event_time` was found: `skew_corrected`, `client` (no `sent_at`),"
                      + " `received` (no client time), `out_of_bounds` (the client's time was"
                      + " outside the bounds and is only in `client_timestamp`)"),
              derived(
                  "user_id",
                  STRING,
                  Enrichment::userId,
                  "the identified user: `userId` (Segment, RudderStack), `user_id` (trellis.js),"
                      + " `uid` (Snowplow), PostHog's identified `distinct_id`; body, else query"),
              derived(
                  "anonymous_id",
                  STRING,
                  Enrichment::anonymousId,
                  "the device or browser: `anonymousId` (Segment, RudderStack), `visitor_id`"
                      + " (trellis.js), `duid` (Snowplow), PostHog's `distinct_id` before"
                      + " identification or `properties.$device_id`; body, else query"),
              derived(
                  "referrer_class",
                  KEYWORD,
                  Enrichment::referrerClass,
                  "`paid` (a click id or a paid `utm_medium`), `email`, `social`, `search`,"
                      + " `internal` (the page's own host), `direct` (no referrer) or `other`,"
                      + " from the referrer the page reports (body `referrer`, `$referrer`,"
                      + " `context.page.referrer`, else `referer`), `click_id` and `medium` with the lists of"
                      + " `enrich/referrers.txt` (`enrich.referrer`)"),
              derived(
                  "browser",
                  KEYWORD,
                  Enrichment::browser,
                  "browser family from `user_agent` (`Chrome`, `Mobile Safari`, `Googlebot`;"
                      + " `enrich.user-agent`)"),
              derived(
                  "browser_version",
                  KEYWORD,
                  Enrichment::browserVersion,
                  "browser major.minor version"),
              derived("os", KEYWORD, Enrichment::os, "operating system family (`Windows`, `iOS`)"),
              derived(
                  "device_class",
                  KEYWORD,
                  Enrichment::deviceClass,
                  "`desktop`, `mobile`, `tablet`, `bot` or `other`"),
              derived(
                  "is_bot",
                  KEYWORD,
                  e -> e.browser().isEmpty() && !e.isBot() ? "" : String.valueOf(e.isBot()),
                  "`true` for known crawlers, headless browsers, HTTP libraries and link-preview"
                      + " fetchers, else `false`; empty without a user agent"),
              derived(
                  "geo_country",
                  KEYWORD,
                  Enrichment::geoCountry,
                  "ISO 3166-1 country code of `ip` from the `enrich.geoip.database` file; empty"
                      + " without one"),
              derived(
                  "geo_region", STRING, Enrichment::geoRegion, "region (state, county) of `ip`"),
              derived("geo_city", STRING, Enrichment::geoCity, "city of `ip`"),
              derived(
                  "geo_asn",
                  KEYWORD,
                  Enrichment::geoAsn,
                  "autonomous system of `ip` (`AS15169`), from a database that has it"),
              derived(
                  "privacy_signal",
                  KEYWORD,
                  Enrichment::privacySignal,
                  "`gpc` (header `Sec-GPC: 1`), `dnt` (`DNT: 1`), `gpc,dnt` or empty"),
              Column.ingestedAt("ingested_at", "when the sink stored the event")));

  /** A column derived by enrichment from the stored event ({@link Enrichments}). */
  private static Column derived(
      String name,
      ColumnType type,
      java.util.function.Function<Enrichment, String> value,
      String description) {
    return Column.text(name, type, e -> value.apply(Enrichments.of(e)), description);
  }

  private final List<Column> columns;

  public EventSchema(List<Column> columns) {
    this.columns = List.copyOf(requireNonNull(columns, "columns is null"));
    Set<String> names = new HashSet<>();
    for (Column c : this.columns) {
      if (!names.add(c.name())) {
        throw new IllegalArgumentException("column " + c.name() + " appears twice");
      }
    }
    for (String group : groups()) {
      if (names.contains(group)) {
        throw new IllegalArgumentException("BigQuery group " + group + " is also a column");
      }
    }
  }

  private static Column request(Column c) {
    return c.inBigQueryGroup(REQUEST_DATA);
  }

  public List<Column> columns() {
    return columns;
  }

  /** The column of that name, or null. */
  public Column column(String name) {
    for (Column c : columns) {
      if (c.name().equals(name)) {
        return c;
      }
    }
    return null;
  }

  /** The names of the columns, in order. */
  public List<String> names() {
    return columns.stream().map(Column::name).toList();
  }

  /** This schema with {@code column} right after the column named {@code after}. */
  public EventSchema with(Column column, String after) {
    List<Column> out = new ArrayList<>(columns);
    int at = out.indexOf(requireNonNull(column(after), "no column " + after));
    out.add(at + 1, column);
    return new EventSchema(out);
  }

  /** The BigQuery groups, in order of their first column. */
  public List<String> groups() {
    List<String> out = new ArrayList<>();
    for (Column c : columns) {
      if (!c.bigQueryGroup().isEmpty() && !out.contains(c.bigQueryGroup())) {
        out.add(c.bigQueryGroup());
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "EventSchema" + names();
  }
}
