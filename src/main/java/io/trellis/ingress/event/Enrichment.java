package io.trellis.ingress.event;

/**
 * What enrichment ({@code io.trellis.ingress.enrich}) derives from one stored event, read by the
 * schema's derived columns; every text is empty when unknown or switched off, every time is epoch
 * milliseconds or {@link #NO_TIME}.
 *
 * @param clientTimestamp the event's own time as the client's clock had it
 * @param sentAt when the client sent it, by the same clock
 * @param eventTime the client's time corrected for the clock's skew, else the receipt time
 * @param eventTimeSource why {@code eventTime} has its value: {@code skew_corrected}, {@code
 *     client}, {@code received}, {@code out_of_bounds}
 * @param referrerClass {@code paid}, {@code email}, {@code social}, {@code search}, {@code
 *     internal}, {@code direct} or {@code other}
 * @param deviceClass {@code desktop}, {@code mobile}, {@code tablet}, {@code bot} or {@code other}
 * @param isBot a known crawler, headless browser, HTTP library or monitor
 * @param geoAsn the autonomous system, {@code AS13335}
 * @param privacySignal {@code gpc}, {@code dnt}, {@code gpc,dnt} or empty
 */
public record Enrichment(
    long clientTimestamp,
    long sentAt,
    long eventTime,
    String eventTimeSource,
    String userId,
    String anonymousId,
    String term,
    String content,
    String referrerClass,
    String browser,
    String browserVersion,
    String os,
    String deviceClass,
    boolean isBot,
    String geoCountry,
    String geoRegion,
    String geoCity,
    String geoAsn,
    String privacySignal) {

  /** An absent time. */
  public static final long NO_TIME = Long.MIN_VALUE;

  /** Nothing derived: every text empty, no client time, the receipt time as the event's. */
  public static Enrichment none(TrafficEvent e) {
    return new Enrichment(
        NO_TIME,
        NO_TIME,
        e.timestamp(),
        "received",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        false,
        "",
        "",
        "",
        "",
        "");
  }
}
