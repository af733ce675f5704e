package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Capture reads top-level fields with one streaming pass instead of a Jackson tree; what it reads
 * must be what the tree gives ({@code asText()} of value nodes), for every kind of value.
 */
class JsonFieldsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Example
  void scalarsReadAsATreeWouldGiveThem() {
    JsonFields f =
        JsonFields.parse(
            bytes(
                "{\"s\":\"a\\\"b\\u00e9\",\"i\":-0,\"l\":12345678901,\"big\":123456789012345678901234,"
                    + "\"d\":1.50,\"e\":1e2,\"t\":true,\"f\":false,\"n\":null,"
                    + "\"o\":{\"event\":\"nested\"},\"a\":[1,{\"x\":2}],\"s\":\"last\"}"));
    assertThat(f.text("s")).isEqualTo("last");
    assertThat(f.text("i")).isEqualTo("0");
    assertThat(f.text("l")).isEqualTo("12345678901");
    assertThat(f.text("big")).isEqualTo("123456789012345678901234");
    assertThat(f.text("d")).isEqualTo("1.5");
    assertThat(f.text("e")).isEqualTo("100.0");
    assertThat(f.text("t")).isEqualTo("true");
    assertThat(f.text("f")).isEqualTo("false");
    assertThat(f.text("n")).isNull();
    assertThat(f.text("o")).isNull();
    assertThat(f.text("a")).isNull();
    assertThat(f.text("event")).as("nested fields are not top-level").isNull();
    assertThat(f.has("n")).isTrue();
    assertThat(f.has("o")).isTrue();
    assertThat(f.has("missing")).isFalse();
  }

  @Example
  void anythingButExactlyOneObjectIsNotRead() {
    assertThat(JsonFields.parse(bytes("[{\"a\":1}]"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"a\":1} {\"b\":2}"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"a\":1"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"a\":}"))).isNull();
    assertThat(JsonFields.parse(bytes("\"text\""))).isNull();
    assertThat(JsonFields.parse(bytes("event=signup"))).isNull();
    assertThat(JsonFields.parse(bytes(""))).isNull();
    assertThat(JsonFields.parse(bytes(" \n\t{\"a\":\"b\"}\r\n")).text("a")).isEqualTo("b");
  }

  @Example
  void readsTheScalarsOfContextPageAndCampaign() {
    JsonFields f =
        JsonFields.parse(
            bytes(
                "{\"context\":{\"page\":{\"url\":\"https://x/?gclid=1\",\"n\":2,"
                    + "\"deep\":{\"url\":\"no\"}},\"campaign\":{\"source\":\"s\","
                    + "\"name\":null},\"other\":{\"url\":\"no\"},\"library\":\"a\"},"
                    + "\"event\":\"e\"}"));
    assertThat(f.context("page.url")).isEqualTo("https://x/?gclid=1");
    assertThat(f.context("page.n")).isEqualTo("2");
    assertThat(f.context("page.deep")).isNull();
    assertThat(f.context("campaign.source")).isEqualTo("s");
    assertThat(f.context("campaign.name")).isNull();
    assertThat(f.context("other.url")).isNull();
    assertThat(f.text("context")).as("an object reads as null at the top").isNull();
    assertThat(f.text("event")).isEqualTo("e");
  }

  @Example
  void aLaterContextReplacesAnEarlierOneAsInATree() {
    JsonFields replaced =
        JsonFields.parse(
            bytes("{\"context\":{\"page\":{\"url\":\"a\"}},\"context\":{\"campaign\":{}}}"));
    assertThat(replaced.context("page.url")).isNull();
    JsonFields scalar =
        JsonFields.parse(bytes("{\"context\":{\"page\":{\"url\":\"a\"}},\"context\":1}"));
    assertThat(scalar.context("page.url")).isNull();
    JsonFields page =
        JsonFields.parse(
            bytes("{\"context\":{\"page\":{\"url\":\"a\"},\"page\":{\"path\":\"/\"}}}"));
    assertThat(page.context("page.url")).isNull();
    assertThat(page.context("page.path")).isEqualTo("/");
    assertThat(JsonFields.parse(bytes("{\"context\":{\"page\":{\"url\":}}}"))).isNull();
  }

  @Property(tries = 300)
  void readsWhatTheTreeReads(@ForAll("objects") String json) throws Exception {
    byte[] utf8 = bytes(json);
    ObjectNode tree;
    try (JsonParser p = MAPPER.getFactory().createParser(utf8)) {
      tree = (ObjectNode) MAPPER.readTree(p);
    }
    JsonFields fields = JsonFields.parse(utf8);
    assertThat(fields).isNotNull();
    for (Iterator<String> names = tree.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      JsonNode n = tree.get(name);
      String expected = n.isValueNode() && !n.isNull() ? n.asText() : null;
      assertThat(fields.has(name)).isTrue();
      assertThat(fields.text(name)).as(name + " in " + json).isEqualTo(expected);
    }
  }

  @Provide
  Arbitrary<String> objects() {
    Arbitrary<String> names = Arbitraries.of("event", "url", "type", "sid", "é", "a\\\"b", "n");
    Arbitrary<String> strings =
        Arbitraries.strings()
            .withCharRange(' ', '~')
            .withChars('é', '☃', '\u2028')
            .ofMaxLength(12)
            .map(s -> "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
    Arbitrary<String> numbers =
        Arbitraries.oneOf(
            Arbitraries.longs().map(String::valueOf),
            Arbitraries.doubles().map(String::valueOf),
            Arbitraries.of(
                "0", "-0", "1e2", "1E-7", "2.50", "123456789012345678901234567890", "1e400"));
    Arbitrary<String> values =
        Arbitraries.oneOf(
            strings,
            numbers,
            Arbitraries.of(
                "true", "false", "null", "{}", "[]", "{\"x\":[1,\"y\"]}", "[{\"a\":1}]"));
    Arbitrary<String> field = Combinators.combine(names, values).as((n, v) -> "\"" + n + "\":" + v);
    return field
        .list()
        .ofMaxSize(8)
        .map(
            fs -> {
              List<String> parts = new ArrayList<>(fs);
              return "{" + String.join(",", parts) + "}";
            });
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
