package io.trellis.ingress.event;

import io.trellis.ingress.base.JsonPaths;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The body fields and query parameters the enrichments read, under the names SDKs send them: a
 * fixed set, so one streaming pass over the stored body and one over the query collect them all
 * (the enrichments' {@code EventFields}). Top-level names come first; they are looked for in the
 * body and the query. The dotted paths after them are looked for in the body only.
 *
 * <p>Capture reads the same paths in its own pass over a JSON body and stores where each value
 * starts ({@link EventCodec.Field#BODY_INDEX}), so the body is not parsed a second time for
 * enrichment. A field's slot is its ordinal; {@link #LIST_ID} names the whole list, so an index
 * stored under another list (an older or newer release) is not read by slot.
 */
public enum EventField {
  ORIGINAL_TIMESTAMP("originalTimestamp"),
  TIMESTAMP("timestamp"),
  TS("ts"),
  T("t"),
  DTM("dtm"),
  SENT_AT_CAMEL("sentAt"),
  SENT_AT("sent_at"),
  STM("stm"),
  USER_ID_CAMEL("userId"),
  USER_ID("user_id"),
  UID("uid"),
  ANONYMOUS_ID_CAMEL("anonymousId"),
  ANONYMOUS_ID("anonymous_id"),
  VISITOR_ID("visitor_id"),
  VISITOR_ID_CAMEL("visitorId"),
  DUID("duid"),
  DISTINCT_ID("distinct_id"),
  DISTINCT_ID_CAMEL("distinctId"),
  UTM_TERM("utm_term"),
  TERM("term"),
  UTM_CONTENT("utm_content"),
  CONTENT("content"),
  URL("url"),
  PAGE_URL("page_url"),
  PAGE("page"),
  REFERRER("referrer"),
  PROPERTIES_DISTINCT_ID("properties.distinct_id"),
  PROPERTIES_IS_IDENTIFIED("properties.$is_identified"),
  PROPERTIES_DEVICE_ID("properties.$device_id"),
  PROPERTIES_URL("properties.url"),
  PROPERTIES_CURRENT_URL("properties.$current_url"),
  PROPERTIES_POSTHOG_REFERRER("properties.$referrer"),
  PROPERTIES_REFERRER("properties.referrer"),
  CAMPAIGN_TERM("context.campaign.term"),
  CAMPAIGN_CONTENT("context.campaign.content"),
  CONTEXT_PAGE_URL("context.page.url"),
  CONTEXT_PAGE_REFERRER("context.page.referrer");

  /**
   * Names this list of paths, in this order: the CRC32C of the paths, each followed by a newline,
   * in 31 bits.
   */
  public static final int LIST_ID = listId();

  /** The paths into a JSON body, each at its field's ordinal as slot. */
  public static final JsonPaths BODY_PATHS =
      JsonPaths.of(Stream.of(values()).map(EventField::path).toList());

  private final String path;

  /* Asked on every parameter read: kept rather than searched for each time. */
  private final boolean topLevel;

  EventField(String path) {
    this.path = path;
    this.topLevel = path.indexOf('.') < 0;
  }

  /** The dotted path into a JSON body; a top-level one is also a query parameter's name. */
  public String path() {
    return path;
  }

  /** Whether the path is one name, looked for in the query too. */
  public boolean topLevel() {
    return topLevel;
  }

  private static int listId() {
    CRC32C crc = new CRC32C();
    for (EventField f : values()) {
      crc.update((f.path + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return (int) crc.getValue() & Integer.MAX_VALUE;
  }
}
