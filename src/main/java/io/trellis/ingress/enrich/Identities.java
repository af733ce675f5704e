package io.trellis.ingress.enrich;

import io.trellis.ingress.event.EventField;

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

  private static final EventField[] USER = {
    EventField.USER_ID_CAMEL, EventField.USER_ID, EventField.UID
  };
  private static final EventField[] ANONYMOUS = {
    EventField.ANONYMOUS_ID_CAMEL,
    EventField.ANONYMOUS_ID,
    EventField.VISITOR_ID,
    EventField.VISITOR_ID_CAMEL,
    EventField.DUID
  };
  private static final EventField[] DISTINCT = {
    EventField.DISTINCT_ID, EventField.DISTINCT_ID_CAMEL
  };

  private Identities() {}

  static Ids of(EventFields f) {
    String user = f.first(USER);
    String anonymous = f.first(ANONYMOUS);
    String distinct = f.first(DISTINCT);
    if (distinct == null) {
      // posthog-js sends it among the event's properties, not beside them.
      distinct = f.body(EventField.PROPERTIES_DISTINCT_ID);
    }
    if (distinct != null) {
      if (identified(f)) {
        user = user == null ? distinct : user;
      } else {
        anonymous = anonymous == null ? distinct : anonymous;
      }
    }
    if (anonymous == null) {
      anonymous = f.body(EventField.PROPERTIES_DEVICE_ID);
    }
    return new Ids(orEmpty(user), orEmpty(anonymous));
  }

  /**
   * PostHog's {@code distinct_id} is the person once identified; before that it is the device's id
   * and {@code properties.$is_identified} is false. Server-side SDKs send identified ids without
   * that property.
   */
  private static boolean identified(EventFields f) {
    return !f.bodyIsFalse(EventField.PROPERTIES_IS_IDENTIFIED);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
