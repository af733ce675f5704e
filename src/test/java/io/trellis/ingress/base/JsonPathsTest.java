package io.trellis.ingress.base;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The streaming read gives, for any text, what a Jackson tree of it gives at each path: random
 * objects built from a few keys (so keys repeat and wanted paths hold every kind of value), some
 * truncated or with a character replaced.
 */
class JsonPathsTest {
  private static final List<String> PATHS = List.of("a", "b.c", "b.d.e", "b", "x.y", "n");
  private static final List<String> NAMES = List.of("a", "b", "n", "q");
  private static final String[] KEYS = {"a", "b", "c", "d", "e", "x", "y", "n", "q", "a\\u0062"};
  private static final String[] SCALARS = {
    "\"v\"",
    "\"\"",
    "\"false\"",
    "\"\\u00e9\\\\\"",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-0.0",
    "-1",
    "-75",
    "42",
    "2147483648",
    "-9223372036854775809",
    "1.5",
    "1e3",
    "1E+400",
    "0.1",
    "123456789012345678",
    "1764867590.25",
    "\"\\ud800\"",
    "\"\\q\"",
    "01",
    "NaN",
    "\"tab\t\"",
    "tru",
    "truex",
    "true1",
    "nul",
    "fals",
    "1.",
    "-",
    "-a",
    "1e",
    "1e+",
    "1E-5",
    "2e+2",
    "+1",
    ".5",
    "-01",
    "00",
    "1.5e",
    "\"\\u00zz\"",
    "\"\\u12\"",
    "\"\\/\\b\\f\\n\\r\\t\\\"\"",
    "\"\\uD83D\\uDE00\\uABCD\\uabcd\"",
    "\"x\\\"",
    "\"é€😀\"",
    "'single'",
    "Infinity",
    "-Infinity",
    "/*c*/1",
    " \t\n\r 7 \r\n",
    "[1,]",
    "[,1]",
    "{,}",
    "{\"a\":1,}",
    "[false]",
    "[[\"v\"],1]",
    "\u000b1",
    "\u00a01"
  };

  /* What replaces one char of a text: structure, whitespace, number and escape chars. */
  private static final RandomJson TEXTS = new RandomJson(KEYS, SCALARS, 4);

  private static final String MUTATIONS = "{}[],:\" x1\t\n\r-.e+0\\/'tfnu\u0001\u00a0";

  /* The tree reading the stored event, as enrichment read it with Jackson trees. */
  private static final ObjectMapper TREE =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder().maxNestingDepth(1000).build())
                  .build())
          .build();

  @Property(tries = 3000)
  void objectPathsReadAsTheTreeGivesThem(@ForAll long seed) {
    assertReadsAsTree(text(new Random(seed)));
  }

  /* Around Jackson's default limits: digits of a number, nesting, a name's length. */
  @Example
  void textsAtTheParsersLimitsReadAsTheTreeGivesThem() {
    int digits = StreamReadConstraints.defaults().getMaxNumberLength();
    int name = StreamReadConstraints.defaults().getMaxNameLength();
    for (int d = digits - 2; d <= digits + 1; d++) {
      String n = "1" + "0".repeat(d - 1);
      for (String number :
          List.of(
              n,
              "-" + n,
              n + ".5",
              "-" + n + ".5",
              "1." + n,
              "1e" + n,
              "1e-" + n,
              "-0." + n,
              "0e" + n,
              "1.5e" + n)) {
        String text = "{\"a\":" + number + ",\"n\":1}";
        assertReadsAsTree(text);
        assertThat(JsonPaths.of(PATHS).read(text).text(5))
            .as("%d digits", d)
            .isEqualTo(tree(text) == null ? null : "1");
      }
    }
    for (int depth = JsonScanner.MAX_DEPTH - 1; depth <= JsonScanner.MAX_DEPTH + 1; depth++) {
      String nested = "[".repeat(depth - 1) + "]".repeat(depth - 1);
      assertReadsAsTree("{\"a\":\"v\",\"q\":" + nested + "}");
      assertReadsAsTree("{\"a\":\"v\",\"b\":{\"c\":" + nested + "}}");
    }
    for (int n = name - 1; n <= name + 1; n++) {
      assertReadsAsTree("{\"a\":\"v\",\"" + "k".repeat(n) + "\":1}");
      assertReadsAsTree("{\"a\":\"v\",\"" + "k".repeat(n - 1) + "\\u0062\":1}");
    }
  }

  /*
   * A body cut anywhere, or with any one char changed into each of the chars that matter to a
   * parser, reads as the tree gives it: never an exception, which on a delivery thread would hold
   * its sink on that event.
   */
  @Example
  void everyCutAndEveryOneCharChangeOfABodyReadsAsTheTreeGivesIt() throws Exception {
    String body =
        "{\"a\":\"v\\u00e9\\\"\\\\\\ud83d\\ude00\\/\",\"b\":{\"c\":-12.5e+3,\"d\":{\"e\":[true,"
            + "false,null,{\"x\":0}],\"e\":\"w\"}},\"x\":{\"y\":\"é😀\"},\"n\":0.0,"
            + "\"a\\u0062\":[1,[2,{}]],\"q\":\"\"}";
    assertThat(tree(body)).isNotNull();
    RandomJson.everyCutAndChange(body, MUTATIONS, JsonPathsTest::assertReadsAsTree);
  }

  /*
   * A read stops at its own end: a text read after a longer one reads as its own tree (cut from the
   * end, each cut would be completed by the longer text's tail), and a long text reads as well.
   */
  @Example
  void aTextReadAfterALongerOneReadsOnlyItsOwnChars() {
    String body =
        "{\"a\":\"v\",\"b\":{\"c\":12,\"d\":{\"e\":\"w\"}},\"x\":{\"y\":\"z\"},\"n\":[1]}";
    for (int cut = body.length(); cut >= 0; cut--) {
      JsonPaths.of(PATHS).read(body);
      assertReadsAsTree(body.substring(0, cut));
    }
    for (int filler : new int[] {1_000, 70_000, 200_000}) {
      String longText = "{\"q\":\"" + "x".repeat(filler) + "\",\"a\":\"v" + filler + "\"}";
      assertThat(JsonPaths.of(PATHS).read(longText).text(0)).isEqualTo("v" + filler);
      assertReadsAsTree("{\"a\":\"short\"");
      assertThat(JsonPaths.of(PATHS).read("{\"a\":\"short\"}").text(0)).isEqualTo("short");
    }
  }

  private static void assertReadsAsTree(String text) {
    assertReadsAsTree(text, JsonPaths.of(PATHS).read(text));
    // The same bytes inside a larger array, followed by what would complete any cut of them: a
    // read of the range stops at its end.
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    byte[] tail = "\"}]}\"}]},\"a\":\"tail\"}".getBytes(StandardCharsets.UTF_8);
    byte[] padded = new byte[3 + utf8.length + tail.length];
    System.arraycopy(utf8, 0, padded, 3, utf8.length);
    System.arraycopy(tail, 0, padded, 3 + utf8.length, tail.length);
    assertReadsAsTree(text, JsonPaths.of(PATHS).read(padded, 3, 3 + utf8.length));
    // Read again from where a read with positions found each value: the same values.
    JsonPaths.Values kept = JsonPaths.withPositions(PATHS).read(padded, 3, 3 + utf8.length);
    int[] slots = new int[PATHS.size()];
    int[] starts = new int[PATHS.size()];
    int n = 0;
    for (int i = 0; i < PATHS.size(); i++) {
      if (kept.start(i) >= 0) {
        slots[n] = i;
        starts[n++] = kept.start(i) - 3;
      }
    }
    assertReadsAsTree(
        text, JsonPaths.of(PATHS).valuesAt(padded, 3, 3 + utf8.length, slots, starts, n));
  }

  @Example
  void valuesAreFoundFromWhereTheyStartAndAnIndexThatDoesNotFitIsRefused() {
    byte[] b =
        "{\"a\":\"v\",\"b\":{\"c\":-1.5e1,\"d\":{\"e\":false}},\"n\":true}"
            .getBytes(StandardCharsets.UTF_8);
    JsonPaths.Values kept = JsonPaths.withPositions(PATHS).read(b, 0, b.length);
    assertThat(kept.source()).isSameAs(b);
    assertThat(kept.start(0)).isEqualTo(5);
    assertThat(kept.start(3)).isEqualTo(-1); // "b" is an object: no text, no start
    JsonPaths paths = JsonPaths.of(PATHS);
    JsonPaths.Values v =
        paths.valuesAt(
            b,
            0,
            b.length,
            new int[] {0, 1, 2, 5},
            new int[] {kept.start(0), kept.start(1), kept.start(2), kept.start(5)},
            4);
    assertThat(v.text(0)).isEqualTo("v");
    assertThat(v.text(1)).isEqualTo("-15.0");
    assertThat(v.text(2)).isEqualTo("false");
    assertThat(v.isFalse(2)).isTrue();
    assertThat(v.text(5)).isEqualTo("true");
    assertThat(v.text(4)).isNull();
    // Out of range, or a start where no scalar is: not used.
    assertThat(paths.valuesAt(b, 0, b.length, new int[] {6}, new int[] {5}, 1)).isNull();
    assertThat(paths.valuesAt(b, 0, b.length, new int[] {0}, new int[] {b.length}, 1)).isNull();
    assertThat(paths.valuesAt(b, 0, b.length, new int[] {0}, new int[] {-1}, 1)).isNull();
    assertThat(paths.valuesAt(b, 0, b.length, new int[] {0}, new int[] {0}, 1)).isNull();
    assertThat(paths.valuesAt(b, 0, b.length, new int[] {0}, new int[] {4}, 1)).isNull();
    assertThat(JsonPaths.of(PATHS).read(b, 0, b.length).start(0)).isEqualTo(-1);
  }

  private static void assertReadsAsTree(String text, JsonPaths.Values got) {
    JsonNode tree = tree(text);
    for (int i = 0; i < PATHS.size(); i++) {
      JsonNode n = RandomJson.at(tree, PATHS.get(i));
      assertThat(got.text(i)).as("%s in %s", PATHS.get(i), text).isEqualTo(RandomJson.scalar(n));
      assertThat(got.isFalse(i))
          .as("%s false in %s", PATHS.get(i), text)
          .isEqualTo(n != null && n.isBoolean() && !n.booleanValue());
    }
  }

  @Property(tries = 3000)
  void parametersReadAsTheTreeGivesTheirFirstValue(@ForAll long seed) {
    String text = text(new Random(seed));
    JsonPaths.Values got = JsonPaths.firstOfArrays(NAMES).read(text);
    JsonNode tree = tree(text);
    for (int i = 0; i < NAMES.size(); i++) {
      JsonNode n = tree == null ? null : tree.get(NAMES.get(i));
      if (n != null && n.isArray()) {
        n = n.size() > 0 ? n.get(0) : null;
      }
      assertThat(got.text(i)).as("%s in %s", NAMES.get(i), text).isEqualTo(RandomJson.scalar(n));
    }
  }

  @Example
  void aStringLongerThanATreeReadsLeavesNoValueEvenWhereItIsSkipped() {
    int max = StreamReadConstraints.defaults().getMaxStringLength();
    String text = "{\"q\":\"" + "x".repeat(max + 1) + "\",\"a\":\"v\"}";

    assertThat(tree(text)).isNull();
    assertThat(JsonPaths.of(PATHS).read(text).text(0)).isNull();
    assertThat(JsonPaths.of(PATHS).read("{\"q\":\"x\",\"a\":\"v\"}").text(0)).isEqualTo("v");
  }

  /*
   * The tree of the text's UTF-8 bytes, which are what the scanner reads: a cut or a changed char
   * that leaves half a surrogate pair makes it a '?' there, as in every stored text (decoded from
   * UTF-8, which has no lone surrogates).
   */
  private static JsonNode tree(String text) {
    if (text.isEmpty() || text.charAt(0) != '{') {
      return null;
    }
    try {
      return TREE.readTree(
          new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String text(Random r) {
    StringBuilder b = new StringBuilder();
    TEXTS.object(r, b, 0);
    String s = b.toString();
    switch (r.nextInt(6)) {
      case 0 -> s = RandomJson.cut(r, s);
      case 1 -> s = RandomJson.changeOneChar(r, s, MUTATIONS);
      case 2 -> s = s + (r.nextBoolean() ? " trailing" : "{\"a\":\"second\"}");
      default -> {}
    }
    return s;
  }
}
