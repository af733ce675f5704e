package io.trellis.ingress.enrich;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Who the event is about: {@code user_id}, the identified user, and {@code anonymous_id}, the
 * device or browser before (and beside) identification, under the names the SDKs send.
 *
 * <pre>
 * sender                      user_id                       anonymous_id
 * Segment, RudderStack        userId                        anonymousId
 * trellis.js                  user_id                       visitor_id
 * PostHog                     distinct_id (identified)      distinct_id while $is_identified is
 *                                                           false; else properties.$device_id
 * Snowplow                    uid                           duid (domain user id)
 * pixels, links, others       user_id, userId, uid          anonymous_id, anonymousId, visitor_id
 * </pre>
 *
 * Body fields first, then query parameters (pixels, {@code /track}, links). Stateless.
 */
final class Identities {
  record Ids(String userId, String anonymousId) {}

  private static final String[] USER = {"userId", "user_id", "uid"};
  private static final String[] ANONYMOUS = {
    "anonymousId", "anonymous_id", "visitor_id", "visitorId", "duid"
  };

  private Identities() {}

  static Ids of(EventFields f) {
    String user = f.first(USER);
    String anonymous = f.first(ANONYMOUS);
    String distinct = f.first("distinct_id", "distinctId");
    if (distinct == null) {
      // posthog-js sends it among the event's properties, not beside them.
      distinct = f.bodyPath("properties.distinct_id");
    }
    if (distinct != null) {
      if (identified(f)) {
        user = user == null ? distinct : user;
      } else {
        anonymous = anonymous == null ? distinct : anonymous;
      }
    }
    if (anonymous == null) {
      anonymous = f.bodyPath("properties.$device_id");
    }
    return new Ids(orEmpty(user), orEmpty(anonymous));
  }

  /**
   * PostHog's {@code distinct_id} is the person once identified; before that it is the device's id
   * and {@code properties.$is_identified} is false. Server-side SDKs send identified ids without
   * that property.
   */
  private static boolean identified(EventFields f) {
    JsonNode props = f.bodyNode("properties");
    JsonNode flag = props == null ? null : props.get("$is_identified");
    return flag == null || !flag.isBoolean() || flag.booleanValue();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
