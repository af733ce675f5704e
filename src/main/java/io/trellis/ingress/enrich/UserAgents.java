package io.trellis.ingress.enrich;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import ua_parser.Client;

/**
 * Browser, browser version, operating system, device class and whether the agent is a bot, from the
 * user agent string, with uap-java (the ua-parser project's Java binding and its maintained {@code
 * regexes.yaml}; see RATIONALE.md for why this library), through {@link PrefilteredParser}, which
 * tries only the patterns whose text the string holds. Parsing one new string costs 25–50 µs (1–1.3
 * ms with uap-java's own parser); traffic repeats the same strings, so results are cached by the
 * exact string, the most asked for kept ({@link DerivedValues}). Only a string's first {@value
 * #MAX_CHARS} chars are read: the parse costs time in proportion to the length (uap-java's parser
 * alone takes 400 ms for the 60,000 chars a header may hold, which would stall every sink's
 * delivery), and the cache would hold every such string whole. Real user agents are a few hundred
 * chars at most. Thread-safe.
 *
 * <p>Device classes: {@code bot}, {@code mobile}, {@code tablet}, {@code desktop}, {@code other} (a
 * library, a TV, a console, anything unrecognized), empty without a user agent.
 */
final class UserAgents {
  record Agent(
      String browser, String browserVersion, String os, String deviceClass, boolean isBot) {
    static final Agent NONE = new Agent("", "", "", "", false);
  }

  /** The chars of a user agent that are parsed (and cached); the rest is ignored. */
  static final int MAX_CHARS = 1024;

  static final String BOT = "bot";
  static final String MOBILE = "mobile";
  static final String TABLET = "tablet";
  static final String DESKTOP = "desktop";
  static final String OTHER = "other";

  /*
   * Automated agents that ua-parser reports as ordinary browsers or libraries: headless browsers,
   * HTTP libraries and command-line tools, monitoring and preview fetchers. Each is looked for in
   * the string with its ASCII letters lowered, as a case-insensitive pattern of them would be; and
   * "bot" where it ends a word (AUTOMATED_WORD). A regular expression of them all cost about a
   * third of a new user agent's parse, trying every name at every position.
   */
  private static final String[] AUTOMATED = {
    "headless", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver", "lighthouse",
    "pagespeed", "crawler", "spider", "slurp", "curl/", "wget/", "python-requests",
    "python-urllib", "aiohttp", "httpx", "go-http-client", "java-http-client", "okhttp", "java/",
    "apache-httpclient", "node-fetch", "axios/", "libwww", "scrapy", "httpclient", "pingdom",
    "uptimerobot", "statuscake", "datadog", "newrelic", "facebookexternalhit", "embedly"
  };

  /** Automated when followed by no letter, digit or underscore: Googlebot, bingbot/2.0. */
  private static final String AUTOMATED_WORD = "bot";

  private static final Set<String> DESKTOP_OS =
      Set.of("Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "Debian", "FreeBSD");
  private static final Set<String> MOBILE_OS =
      Set.of("iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS");
  private static final Pattern TABLET_DEVICE =
      Pattern.compile(
          "ipad|tablet|kindle|silk|playbook|\\bsm-[tx]\\d|nexus (7|9|10)\\b|tab\\b",
          Pattern.CASE_INSENSITIVE);

  private final PrefilteredParser parser;
  private final DerivedValues<String, Agent> cache;

  /**
   * @param cacheSize most distinct user agents remembered (the most asked for)
   */
  UserAgents(int cacheSize) {
    this.parser = new PrefilteredParser();
    this.cache = new DerivedValues<>(cacheSize);
  }

  Agent of(String userAgent) {
    if (userAgent == null || userAgent.isBlank()) {
      return Agent.NONE;
    }
    String read = userAgent.length() > MAX_CHARS ? userAgent.substring(0, MAX_CHARS) : userAgent;
    return cache.get(read, this::parse);
  }

  int cached() {
    return cache.size();
  }

  private Agent parse(String ua) {
    String lowered = RegexLiterals.asciiLower(ua);
    Client c = parser.parse(ua, lowered);
    String browser = other(c.userAgent.family);
    String version = browser.isEmpty() || c.userAgent.major == null ? "" : version(c);
    String os = other(c.os.family);
    String device = c.device.family == null ? "" : c.device.family;
    boolean bot = device.equals("Spider") || automated(lowered);
    return new Agent(browser, version, os, deviceClass(bot, os, device, ua), bot);
  }

  /**
   * Whether a user agent, given with its ASCII letters lowered ({@link RegexLiterals#asciiLower}),
   * names one of the {@link #AUTOMATED} agents or has {@link #AUTOMATED_WORD} at the end of a word:
   * what {@code Pattern.compile("headless|…|bot\\b|…", CASE_INSENSITIVE).matcher(ua).find()}
   * answers (UserAgentTest compares them).
   */
  static boolean automated(String lower) {
    for (String name : AUTOMATED) {
      if (lower.contains(name)) {
        return true;
      }
    }
    int n = AUTOMATED_WORD.length();
    for (int i = lower.indexOf(AUTOMATED_WORD); i >= 0; i = lower.indexOf(AUTOMATED_WORD, i + 1)) {
      if (i + n == lower.length() || !continuesWord(lower.codePointAt(i + n))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a code point after a letter continues its word, as {@code \\b} reads it: a letter, a
   * digit, an underscore or a mark that combines with the letter.
   */
  private static boolean continuesWord(int cp) {
    return cp == '_'
        || Character.isLetterOrDigit(cp)
        || Character.getType(cp) == Character.NON_SPACING_MARK;
  }

  private static String version(Client c) {
    StringBuilder v = new StringBuilder(c.userAgent.major);
    if (c.userAgent.minor != null) {
      v.append('.').append(c.userAgent.minor);
    }
    return v.toString();
  }

  private static String deviceClass(boolean bot, String os, String device, String ua) {
    if (bot) {
      return BOT;
    }
    if (TABLET_DEVICE.matcher(device).find() || (os.equals("Android") && !ua.contains("Mobile"))) {
      return TABLET;
    }
    if (MOBILE_OS.contains(os) || ua.toLowerCase(Locale.ROOT).contains("mobi")) {
      return MOBILE;
    }
    if (DESKTOP_OS.contains(os)) {
      return DESKTOP;
    }
    return OTHER;
  }

  private static String other(String family) {
    return family == null || family.equals("Other") ? "" : family;
  }
}
