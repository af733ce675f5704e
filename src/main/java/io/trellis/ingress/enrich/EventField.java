package io.trellis.ingress.enrich;

/**
 * The body fields and query parameters the enrichments read, under the names SDKs send them: a
 * fixed set, so one streaming pass over the stored body and one over the query collect them all
 * ({@link EventFields}). Top-level names come first; they are looked for in the body and the query.
 * The dotted paths after them are looked for in the body only.
 */
enum EventField {
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

  final String path;

  /* Asked on every parameter read: kept rather than searched for each time. */
  private final boolean topLevel;

  EventField(String path) {
    this.path = path;
    this.topLevel = path.indexOf('.') < 0;
  }

  boolean topLevel() {
    return topLevel;
  }
}
