package io.trellis.ingress.enrich;

import com.hankcs.algorithm.AhoCorasickDoubleArrayTrie;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
 * <p>The patterns need about two thousand distinct literals. Which of them a user agent holds is
 * found in one pass over it and one over its lowered form, by an Aho-Corasick automaton of them
 * all; only the patterns listed under a literal it holds (or needing none) are candidates, and each
 * candidate's clauses are looked up, not searched for again.
 *
 * <p>Thread-safe.
 */
final class PrefilteredParser {
  private static final String REGEXES = "/ua_parser/regexes.yaml";

  /**
   * A pattern and what it needs to be tried: clauses, each met by one of its alternatives, each of
   * which holds all of its literals (by their numbers in {@link Literals}).
   */
  private record Entry<R>(Function<String, R> match, int[][][] clauses) {}

  private final Literals literals = new Literals();
  private final Patterns<UserAgent> agents;
  private final Patterns<OS> systems;
  private final Patterns<Device> devices;

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
    agents = new Patterns<>(entries(section(config, "user_agent_parsers"), Agents::matcher));
    systems = new Patterns<>(entries(section(config, "os_parsers"), Systems::matcher));
    devices = new Patterns<>(entries(section(config, "device_parsers"), Devices::matcher));
    literals.build();
    agents.index(literals);
    systems.index(literals);
    devices.index(literals);
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
      out.add(new Entry<>(factory.apply(m), numbered));
    }
    return List.copyOf(out);
  }

  /** What uap-java's {@link Parser#parse} answers for {@code ua} (not null). */
  Client parse(String ua) {
    return parse(ua, RegexLiterals.asciiLower(ua));
  }

  /** {@link #parse(String)}, given the user agent with its ASCII letters lowered as well. */
  Client parse(String ua, String lowered) {
    Text text = new Text(ua, lowered, literals);
    return new Client(
        first(agents, text, UserAgent.OTHER),
        first(systems, text, OS.OTHER),
        first(devices, text, Device.OTHER));
  }

  /**
   * What the first pattern that matches answers, trying only those whose text {@code t} holds, in
   * order; {@code none} when none matches (as uap-java's parsers do).
   */
  private static <R> R first(Patterns<R> patterns, Text t, R none) {
    BitSet candidates = patterns.candidates(t);
    for (int i = candidates.nextSetBit(0); i >= 0; i = candidates.nextSetBit(i + 1)) {
      Entry<R> e = patterns.entries.get(i);
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
   * One section's patterns in their order, and for each literal the patterns it can let through:
   * each pattern is listed under the longest literal of each alternative of its most selective
   * clause, so a text that meets that clause holds one of them. A pattern with no such clause is
   * always a candidate. The candidates of a text are then a few dozen of the hundreds, and each is
   * still checked whole.
   */
  private static final class Patterns<R> {
    final List<Entry<R>> entries;
    private final BitSet always = new BitSet();
    private int[][] byLiteral;

    Patterns(List<Entry<R>> entries) {
      this.entries = entries;
    }

    void index(Literals literals) {
      List<List<Integer>> lists = new ArrayList<>(literals.count());
      for (int l = 0; l < literals.count(); l++) {
        lists.add(new ArrayList<>(0));
      }
      for (int i = 0; i < entries.size(); i++) {
        int[][] clause = mostSelective(entries.get(i).clauses(), literals);
        if (clause == null) {
          always.set(i);
          continue;
        }
        for (int[] all : clause) {
          lists.get(longest(all, literals)).add(i);
        }
      }
      byLiteral = new int[lists.size()][];
      for (int l = 0; l < lists.size(); l++) {
        byLiteral[l] = lists.get(l).stream().mapToInt(Integer::intValue).toArray();
      }
    }

    /**
     * The clause whose weakest alternative has the longest literal; null when every clause has an
     * alternative that needs nothing (or there is no clause).
     */
    private static int[][] mostSelective(int[][][] clauses, Literals literals) {
      int[][] best = null;
      int bestScore = 0;
      for (int[][] clause : clauses) {
        int weakest = Integer.MAX_VALUE;
        for (int[] all : clause) {
          weakest =
              all.length == 0 ? 0 : Math.min(weakest, literals.length(longest(all, literals)));
        }
        if (weakest > bestScore) {
          best = clause;
          bestScore = weakest;
        }
      }
      return best;
    }

    private static int longest(int[] all, Literals literals) {
      int best = all[0];
      for (int l : all) {
        if (literals.length(l) > literals.length(best)) {
          best = l;
        }
      }
      return best;
    }

    /** The patterns that {@code t} may let through, a superset of those whose clauses it meets. */
    BitSet candidates(Text t) {
      BitSet out = (BitSet) always.clone();
      for (int k = 0; k < t.foundCount; k++) {
        for (int e : byLiteral[t.found[k]]) {
          out.set(e);
        }
      }
      return out;
    }
  }

  /**
   * The distinct literals the patterns need, numbered, and two automata that find them: one of the
   * literals looked for as they are, one of those looked for in the lowered text.
   */
  private static final class Literals {
    private final Map<String, Integer> exact = new HashMap<>();
    private final Map<String, Integer> lowered = new HashMap<>();
    private final List<String> texts = new ArrayList<>();
    private AhoCorasickDoubleArrayTrie<Integer> exactTrie;
    private AhoCorasickDoubleArrayTrie<Integer> loweredTrie;

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
          out[n++] =
              ids.computeIfAbsent(
                  literal,
                  l -> {
                    texts.add(l);
                    return texts.size() - 1;
                  });
        }
      }
      return n == out.length ? out : Arrays.copyOf(out, n);
    }

    void build() {
      exactTrie = trie(exact);
      loweredTrie = trie(lowered);
    }

    /** An automaton of the literals, each found with its number; null when there are none. */
    private static AhoCorasickDoubleArrayTrie<Integer> trie(Map<String, Integer> ids) {
      if (ids.isEmpty()) {
        return null;
      }
      AhoCorasickDoubleArrayTrie<Integer> trie = new AhoCorasickDoubleArrayTrie<>();
      trie.build(new TreeMap<>(ids));
      return trie;
    }

    int count() {
      return texts.size();
    }

    int length(int id) {
      return texts.get(id).length();
    }
  }

  /** The user agent, and which literals it holds, as they are or in its ASCII-lowered form. */
  private static final class Text {
    final String ua;
    private final boolean[] held;

    /** The numbers of the literals held, {@code foundCount} of them. */
    private int[] found = new int[64];

    private int foundCount;

    Text(String ua, String lowered, Literals literals) {
      this.ua = ua;
      this.held = new boolean[literals.count()];
      find(literals.exactTrie, ua);
      find(literals.loweredTrie, lowered);
    }

    private void find(AhoCorasickDoubleArrayTrie<Integer> trie, String text) {
      if (trie == null) {
        return;
      }
      trie.parseText(
          text,
          (begin, end, literal) -> {
            int id = literal;
            if (!held[id]) {
              held[id] = true;
              if (foundCount == found.length) {
                found = Arrays.copyOf(found, 2 * found.length);
              }
              found[foundCount++] = id;
            }
          });
    }

    boolean holds(Entry<?> e) {
      for (int[][] clause : e.clauses()) {
        if (!meets(clause)) {
          return false;
        }
      }
      return true;
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
