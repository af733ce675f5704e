package io.trellis.ingress.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Browser, OS, device class and bots from real user agent strings. */
class UserAgentTest {
  private static UserAgents agents;

  @BeforeAll
  static void load() {
    agents = new UserAgents(100);
  }

  @Test
  void desktopBrowsers() {
    UserAgents.Agent chrome =
        agents.of(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
                + " Chrome/131.0.0.0 Safari/537.36");
    UserAgents.Agent firefox =
        agents.of("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");

    assertThat(chrome)
        .isEqualTo(new UserAgents.Agent("Chrome", "131.0", "Windows", "desktop", false));
    assertThat(firefox)
        .isEqualTo(new UserAgents.Agent("Firefox", "133.0", "Ubuntu", "desktop", false));
  }

  @Test
  void phonesAndTablets() {
    UserAgents.Agent iphone =
        agents.of(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML,"
                + " like Gecko) Version/17.6 Mobile/15E148 Safari/604.1");
    UserAgents.Agent ipad =
        agents.of(
            "Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
                + " Gecko) Version/16.6 Mobile/15E148 Safari/604.1");
    UserAgents.Agent galaxy =
        agents.of(
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
                + " Chrome/131.0.6778.39 Mobile Safari/537.36");
    UserAgents.Agent galaxyTab =
        agents.of(
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko)"
                + " Chrome/120.0.0.0 Safari/537.36");

    assertThat(iphone.os()).isEqualTo("iOS");
    assertThat(iphone.browser()).isEqualTo("Mobile Safari");
    assertThat(iphone.deviceClass()).isEqualTo("mobile");
    assertThat(ipad.deviceClass()).isEqualTo("tablet");
    assertThat(galaxy.deviceClass()).isEqualTo("mobile");
    assertThat(galaxy.browser()).isEqualTo("Chrome Mobile");
    assertThat(galaxyTab.deviceClass()).isEqualTo("tablet");
  }

  @Test
  void crawlersHeadlessBrowsersAndLibrariesAreBots() {
    for (String ua :
        new String[] {
          "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
          "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
          "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
              + " HeadlessChrome/131.0.0.0 Safari/537.36",
          "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
          "curl/8.5.0",
          "python-requests/2.32.3",
          "Java-http-client/17.0.15",
          "Java/1.8.0_392",
          "Apache-HttpClient/5.3 (Java/17.0.15)",
          "okhttp/4.12.0",
          "Go-http-client/1.1",
          "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
          "Wget/1.21.3"
        }) {
      UserAgents.Agent a = agents.of(ua);
      assertThat(a.isBot()).as(ua).isTrue();
      assertThat(a.deviceClass()).as(ua).isEqualTo("bot");
    }
  }

  @Test
  void noUserAgentIsNothing() {
    assertThat(agents.of("")).isEqualTo(UserAgents.Agent.NONE);
  }

  @Test
  void aRepeatedStringIsParsedOnceAndTheCacheIsBounded() {
    UserAgents small = new UserAgents(3);
    String ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Version/17.6 Safari/605.1.15";

    UserAgents.Agent first = small.of(ua);
    assertThat(small.of(ua)).isSameAs(first);
    for (int i = 0; i < 10; i++) {
      small.of("agent-" + i);
      assertThat(small.cached()).isLessThanOrEqualTo(3);
    }
  }

  @Test
  void onlyTheFirstThousandCharsAreReadAndCached() {
    UserAgents fresh = new UserAgents(100);
    String chrome =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            + " Chrome/131.0.0.0 Safari/537.36 ";
    String pad = "x".repeat(UserAgents.MAX_CHARS - chrome.length());

    UserAgents.Agent first = fresh.of(chrome + pad + "a".repeat(60_000));
    UserAgents.Agent second = fresh.of(chrome + pad + "b".repeat(60_000) + " Firefox/133.0");

    assertThat(first)
        .isEqualTo(new UserAgents.Agent("Chrome", "131.0", "Windows", "desktop", false));
    assertThat(second).as("the same first %d chars", UserAgents.MAX_CHARS).isSameAs(first);
    assertThat(fresh.cached()).isEqualTo(1);
  }

  /** The one regular expression that named the automated agents, case-insensitive. */
  private static final Pattern AUTOMATED_PATTERN =
      Pattern.compile(
          "headless|phantomjs|puppeteer|playwright|selenium|webdriver|lighthouse|pagespeed"
              + "|bot\\b|bot/|crawler|spider|slurp|curl/|wget/|python-requests|python-urllib"
              + "|aiohttp|httpx|go-http-client|java-http-client|okhttp|java/|apache-httpclient"
              + "|node-fetch|axios/"
              + "|libwww|scrapy|httpclient|pingdom|uptimerobot|statuscake|datadog|newrelic"
              + "|facebookexternalhit|embedly",
          Pattern.CASE_INSENSITIVE);

  @Test
  void automatedAgentsAreTheOnesTheirPatternFinds() {
    List<String> strings = new ArrayList<>(PrefilteredParserTest.CORPUS);
    // "bot" before each kind of char \\b reads: ASCII and other letters, digits, the underscore,
    // a combining accent, a letter outside the BMP, punctuation, nothing.
    for (String after :
        List.of(
            "", "a", "Z", "7", "_", "-", "/", " ", ";", "é", "\u0301", "\u0663", "\uD835\uDC00")) {
      strings.add("Googlebot" + after);
      strings.add("ROBOT" + after + "x");
    }
    // Each name in other cases, and with a sign that folds to its letter only with Unicode case.
    for (String name : List.of("HeadLess", "CURL/7.1", "OkHttp", "\u212Aubernetes okhttp")) {
      strings.add("Mozilla/5.0 " + name);
    }
    strings.add("Mozilla/5.0 o\u212Ahttp/4.9");
    // Fragments of the names and of real agents joined at random.
    String[] parts = {"bot", "Bot", "_", "é", "curl", "/", "headless", "Chrome", " ", "java", "x"};
    Random random = new Random(11);
    for (int i = 0; i < 20_000; i++) {
      StringBuilder b = new StringBuilder();
      for (int k = random.nextInt(6); k >= 0; k--) {
        b.append(parts[random.nextInt(parts.length)]);
      }
      strings.add(b.toString());
    }

    int automated = 0;
    for (String ua : strings) {
      boolean expected = AUTOMATED_PATTERN.matcher(ua).find();
      assertThat(UserAgents.automated(RegexLiterals.asciiLower(ua))).as(ua).isEqualTo(expected);
      automated += expected ? 1 : 0;
    }
    assertThat(automated).isBetween(1_000, strings.size() - 1_000);
  }
}
