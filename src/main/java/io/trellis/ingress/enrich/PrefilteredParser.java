package io.trellis.ingress.enrich;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import ua_parser.Client;
import ua_parser.Device;
import ua_parser.DeviceParser;
import ua_parser.OS;
import ua_parser.OSParser;
import ua_parser.Parser;
import ua_parser.UserAgent;
import ua_parser.UserAgentParser;

/**
 * uap-java's {@link Parser}, with the same patterns ({@code regexes.yaml} of the uap-java jar) and
 * the same answers, but trying only the patterns whose literal text is in the user agent.
 *
 * <p>uap-java tries its 1,175 patterns one after another, the first that matches giving the answer.
 * A user agent that no cache has seen took about a millisecond (0.8–1.7 ms for Chrome on Windows,
 * Android and iOS), most of it in patterns that could never match it, a few of which backtrack for
 * 100–200 µs. Here each pattern carries what every match of it contains ({@link RegexLiterals}:
 * clauses of literal text); a pattern is tried only when the user agent meets them, so the first
 * pattern that matches is the same one, and the answer is uap-java's own (its pattern objects build
 * it). ua-parser's Rust implementation prefilters its patterns in the same way (regex-filtered's
 * atoms). {@code PrefilteredParserTest}, {@code PrefilteredParserPropertiesTest} and {@code
 * PrefilteredParserCorpusIT} compare both on the user agents of ua-parser's own tests.
 *
 * <p>Thread-safe.
 */
final class PrefilteredParser {
  private static final String REGEXES = "/ua_parser/regexes.yaml";

  /** A pattern and what it needs to be tried. */
  private record Entry<R>(Function<String, R> match, RegexLiterals.Needs needs) {}

  private final List<Entry<UserAgent>> agents;
  private final List<Entry<OS>> systems;
  private final List<Entry<Device>> devices;

  PrefilteredParser() {
    Map<String, List<Map<String, String>>> config;
    try (InputStream in = Parser.class.getResourceAsStream(REGEXES)) {
      if (in == null) {
        throw new IllegalStateException("uap-java's " + REGEXES + " is not on the class path");
      }
      config = new Yaml(new SafeConstructor(Parser.getDefaultLoaderOptions())).load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    agents = entries(section(config, "user_agent_parsers"), Agents::matcher);
    systems = entries(section(config, "os_parsers"), Systems::matcher);
    devices = entries(section(config, "device_parsers"), Devices::matcher);
  }

  private static List<Map<String, String>> section(
      Map<String, List<Map<String, String>>> config, String name) {
    List<Map<String, String>> list = config.get(name);
    if (list == null) {
      throw new IllegalStateException(name + " is missing from " + REGEXES);
    }
    return list;
  }

  /** Each pattern that {@code factory} makes of its map, with the text it needs. */
  private static <R> List<Entry<R>> entries(
      List<Map<String, String>> list, Function<Map<String, String>, Function<String, R>> factory) {
    List<Entry<R>> out = new ArrayList<>(list.size());
    for (Map<String, String> m : list) {
      out.add(
          new Entry<>(
              factory.apply(m), RegexLiterals.of(m.get("regex"), "i".equals(m.get("regex_flag")))));
    }
    return List.copyOf(out);
  }

  /** What uap-java's {@link Parser#parse} answers for {@code ua} (not null). */
  Client parse(String ua) {
    Text text = new Text(ua);
    return new Client(
        first(agents, text, UserAgent.OTHER),
        first(systems, text, OS.OTHER),
        first(devices, text, Device.OTHER));
  }

  /**
   * What the first pattern that matches answers, trying only those whose text {@code t} holds, in
   * order; {@code none} when none matches (as uap-java's parsers do).
   */
  private static <R> R first(List<Entry<R>> entries, Text t, R none) {
    for (Entry<R> e : entries) {
      if (t.holds(e)) {
        R r = e.match().apply(t.ua);
        if (r != null) {
          return r;
        }
      }
    }
    return none;
  }

  /** The user agent, and its ASCII-lowered form once a pattern that ignores case asks. */
  private static final class Text {
    final String ua;
    private String lower;

    Text(String ua) {
      this.ua = ua;
    }

    boolean holds(Entry<?> e) {
      String[][][] clauses = e.needs().clauses();
      String in = ua;
      if (e.needs().lowered() && clauses.length > 0) {
        if (lower == null) {
          lower = RegexLiterals.asciiLower(ua);
        }
        in = lower;
      }
      for (String[][] clause : clauses) {
        if (!meets(in, clause)) {
          return false;
        }
      }
      return true;
    }

    private static boolean meets(String in, String[][] clause) {
      for (String[] all : clause) {
        if (holdsAll(in, all)) {
          return true;
        }
      }
      return false;
    }

    private static boolean holdsAll(String in, String[] all) {
      for (String s : all) {
        if (!in.contains(s)) {
          return false;
        }
      }
      return true;
    }
  }

  /*
   * uap-java's pattern classes and factories are protected: these subclasses of its parsers reach
   * them, to build each pattern as the parser does. Never instantiated.
   */

  private static final class Agents extends UserAgentParser {
    private Agents() {
      super(List.of());
    }

    static Function<String, UserAgent> matcher(Map<String, String> config) {
      return patternFromMap(config)::match;
    }
  }

  private static final class Systems extends OSParser {
    private Systems() {
      super(List.of());
    }

    static Function<String, OS> matcher(Map<String, String> config) {
      return patternFromMap(config)::match;
    }
  }

  private static final class Devices extends DeviceParser {
    private Devices() {
      super(List.of());
    }

    static Function<String, Device> matcher(Map<String, String> config) {
      DevicePattern p = patternFromMap(config);
      return ua -> {
        String family = p.match(ua);
        return family == null ? null : new Device(family);
      };
    }
  }
}
