package io.trellis.ingress.enrich;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.ahocorasick.trie.PayloadTrie;
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
 * <p>The patterns need about two thousand distinct literals. Which of them a user agent holds is
 * found in one pass over it (and one over its lowered form, when a pattern that ignores case is
 * reached), by an Aho-Corasick automaton of them all; each pattern's clauses are then looked up,
 * not searched for again.
 *
 * <p>Thread-safe.
 */
final class PrefilteredParser {
  private static final String REGEXES = "/ua_parser/regexes.yaml";

  /**
   * A pattern and what it needs to be tried: clauses, each met by one of its alternatives, each of
   * which holds all of its literals (by their numbers in {@link Literals}).
   */
  private record Entry<R>(Function<String, R> match, int[][][] clauses, boolean lowered) {}

  private final Literals literals = new Literals();
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
    literals.build();
  }

  private static List<Map<String, String>> section(
      Map<String, List<Map<String, String>>> config, String name) {
    List<Map<String, String>> list = config.get(name);
    if (list == null) {
      throw new IllegalStateException(name + " is missing from " + REGEXES);
    }
    return list;
  }

  /** Each pattern that {@code factory} makes of its map, with the literals it needs. */
  private <R> List<Entry<R>> entries(
      List<Map<String, String>> list, Function<Map<String, String>, Function<String, R>> factory) {
    List<Entry<R>> out = new ArrayList<>(list.size());
    for (Map<String, String> m : list) {
      RegexLiterals.Needs needs = RegexLiterals.of(m.get("regex"), "i".equals(m.get("regex_flag")));
      String[][][] clauses = needs.clauses();
      int[][][] numbered = new int[clauses.length][][];
      for (int c = 0; c < clauses.length; c++) {
        numbered[c] = new int[clauses[c].length][];
        for (int a = 0; a < clauses[c].length; a++) {
          numbered[c][a] = literals.numbers(clauses[c][a], needs.lowered());
        }
      }
      out.add(new Entry<>(factory.apply(m), numbered, needs.lowered()));
    }
    return List.copyOf(out);
  }

  /** What uap-java's {@link Parser#parse} answers for {@code ua} (not null). */
  Client parse(String ua) {
    Text text = new Text(ua, literals);
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

  /**
   * The distinct literals the patterns need, numbered, and two automata that find them: one of the
   * literals looked for as they are, one of those looked for in the lowered text.
   */
  private static final class Literals {
    private final Map<String, Integer> exact = new HashMap<>();
    private final Map<String, Integer> lowered = new HashMap<>();
    private PayloadTrie<Integer> exactTrie;
    private PayloadTrie<Integer> loweredTrie;

    /**
     * The numbers of {@code all}; an empty literal, which every text holds, needs no number and is
     * left out.
     */
    int[] numbers(String[] all, boolean inLowered) {
      Map<String, Integer> ids = inLowered ? lowered : exact;
      int[] out = new int[all.length];
      int n = 0;
      for (String literal : all) {
        if (!literal.isEmpty()) {
          out[n++] = ids.computeIfAbsent(literal, l -> exact.size() + lowered.size());
        }
      }
      return n == out.length ? out : Arrays.copyOf(out, n);
    }

    void build() {
      exactTrie = trie(exact);
      loweredTrie = trie(lowered);
    }

    private static PayloadTrie<Integer> trie(Map<String, Integer> ids) {
      PayloadTrie.PayloadTrieBuilder<Integer> b = PayloadTrie.builder();
      ids.forEach(b::addKeyword);
      return b.build();
    }

    int count() {
      return exact.size() + lowered.size();
    }
  }

  /**
   * The user agent and which literals it holds: those looked for as they are at the first pattern
   * that needs one, those looked for in its ASCII-lowered form at the first pattern that ignores
   * case.
   */
  private static final class Text {
    final String ua;
    private final Literals literals;
    private final boolean[] held;
    private boolean exactFound;
    private boolean loweredFound;

    Text(String ua, Literals literals) {
      this.ua = ua;
      this.literals = literals;
      this.held = new boolean[literals.count()];
    }

    boolean holds(Entry<?> e) {
      int[][][] clauses = e.clauses();
      if (clauses.length == 0) {
        return true;
      }
      if (e.lowered() ? !loweredFound : !exactFound) {
        find(e.lowered());
      }
      for (int[][] clause : clauses) {
        if (!meets(clause)) {
          return false;
        }
      }
      return true;
    }

    private void find(boolean inLowered) {
      PayloadTrie<Integer> trie = inLowered ? literals.loweredTrie : literals.exactTrie;
      trie.parseText(
          inLowered ? RegexLiterals.asciiLower(ua) : ua,
          emit -> {
            held[emit.getPayload()] = true;
            return true;
          });
      if (inLowered) {
        loweredFound = true;
      } else {
        exactFound = true;
      }
    }

    private boolean meets(int[][] clause) {
      for (int[] all : clause) {
        if (holdsAll(all)) {
          return true;
        }
      }
      return false;
    }

    private boolean holdsAll(int[] all) {
      for (int literal : all) {
        if (!held[literal]) {
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
