package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.base.JsonScanner;
import io.trellis.ingress.base.RandomJson;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Capture reads its fields with one pass over the bytes instead of a Jackson tree; what it reads
 * must be what the tree gives ({@code asText()} of value nodes), for every kind of value.
 */
class JsonFieldsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Example
  void scalarsReadAsATreeWouldGiveThem() {
    JsonFields f =
        JsonFields.parse(
            bytes(
                "{\"event\":\"a\\\"b\\u00e9\",\"type\":-0,\"sid\":12345678901,"
                    + "\"eid\":123456789012345678901234,\"source\":1.50,\"medium\":1e2,"
                    + "\"campaign\":true,\"gclid\":false,\"ua\":null,\"e\":\"\","
                    + "\"page\":{\"event\":\"nested\"},\"url\":[1,{\"x\":2}],"
                    + "\"unread\":{\"event\":\"nested\"},\"event\":\"last\"}"));
    assertThat(f.text("event")).isEqualTo("last");
    assertThat(f.text("type")).isEqualTo("0");
    assertThat(f.text("sid")).isEqualTo("12345678901");
    assertThat(f.text("eid")).isEqualTo("123456789012345678901234");
    assertThat(f.text("source")).isEqualTo("1.5");
    assertThat(f.text("medium")).isEqualTo("100.0");
    assertThat(f.text("campaign")).isEqualTo("true");
    assertThat(f.text("gclid")).isEqualTo("false");
    assertThat(f.text("ua")).isNull();
    assertThat(f.text("e")).as("an empty string").isNull();
    assertThat(f.text("page")).isNull();
    assertThat(f.text("url")).isNull();
    assertThat(f.has("ua")).isTrue();
    assertThat(f.has("e")).isTrue();
    assertThat(f.has("page")).isTrue();
    assertThat(f.has("token")).isFalse();
    assertThatThrownBy(() -> f.text("unread")).isInstanceOf(IllegalArgumentException.class);
  }

  @Example
  void anythingButExactlyOneObjectIsNotRead() {
    assertThat(JsonFields.parse(bytes("[{\"event\":1}]"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"event\":1} {\"type\":2}"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"event\":1} x"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"event\":1"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"event\":}"))).isNull();
    assertThat(JsonFields.parse(bytes("{\"other\":[1,]}"))).isNull();
    assertThat(JsonFields.parse(bytes("\"text\""))).isNull();
    assertThat(JsonFields.parse(bytes("event=signup"))).isNull();
    assertThat(JsonFields.parse(bytes(""))).isNull();
    assertThat(JsonFields.parse(bytes(" \n\t{\"event\":\"b\"}\r\n")).text("event")).isEqualTo("b");
  }

  @Example
  void nestingIsCheckedInTheSamePass() throws Exception {
    // The object is level 1: {"a":[[1]]} reaches 3.
    byte[] three = bytes("{\"event\":\"e\",\"a\":[[1]]}");
    assertThat(JsonFields.parse(three, 3).text("event")).isEqualTo("e");
    assertThatThrownBy(() -> JsonFields.parse(three, 2)).isInstanceOf(JsonScanner.TooDeep.class);
    // Not JSON before the nesting passes the limit: not an object, and the caller counts the
    // brackets itself.
    assertThat(JsonFields.parse(bytes("{\"a\":x[[[[[[]]]]]]}"), 2)).isNull();
    assertThat(JsonFields.parse(bytes("{\"a\":" + "[".repeat(5000)))).isNull();
  }

  /* A client's escapes in a field capture does not read are checked, never decoded into memory. */
  @Example
  void aSkippedStringCostsNoMemoryHoweverManyEscapesItHolds() {
    byte[] body = bytes("{\"pad\":\"" + "\\n\\u00e9".repeat(100_000) + "\",\"event\":\"e\"}");
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    JsonFields.parse(body);
    long before = mx.getCurrentThreadAllocatedBytes();
    JsonFields f = JsonFields.parse(body);
    long allocated = mx.getCurrentThreadAllocatedBytes() - before;
    assertThat(f.text("event")).isEqualTo("e");
    assertThat(allocated).as("bytes allocated for an 800 KB body").isLessThan(64 * 1024);
  }

  @Example
  void readsTheScalarsOfContextPageAndCampaign() {
    JsonFields f =
        JsonFields.parse(
            bytes(
                "{\"context\":{\"page\":{\"url\":\"https://x/?gclid=1\",\"referrer\":2,"
                    + "\"deep\":{\"url\":\"no\"}},\"campaign\":{\"source\":\"s\","
                    + "\"name\":null},\"other\":{\"url\":\"no\"},\"ip\":\"1.2.3.4\"},"
                    + "\"properties\":{\"$current_url\":\"https://y/\",\"url\":{}},"
                    + "\"event\":\"e\"}"));
    assertThat(f.context("page.url")).isEqualTo("https://x/?gclid=1");
    assertThat(f.context("page.referrer")).isEqualTo("2");
    assertThat(f.context("campaign.source")).isEqualTo("s");
    assertThat(f.context("campaign.name")).isNull();
    assertThat(f.context("ip")).isEqualTo("1.2.3.4");
    assertThat(f.context("userAgent")).isNull();
    assertThat(f.property("$current_url")).isEqualTo("https://y/");
    assertThat(f.property("url")).isNull();
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
            bytes("{\"context\":{\"page\":{\"url\":\"a\"},\"page\":{\"referrer\":\"/\"}}}"));
    assertThat(page.context("page.url")).isNull();
    assertThat(page.context("page.referrer")).isEqualTo("/");
    assertThat(JsonFields.parse(bytes("{\"context\":{\"page\":{\"url\":}}}"))).isNull();
  }

  /*
   * Objects of read and unread names, read names nested under context and properties too, every
   * kind of value: each read name and path gives what the tree gives there.
   */
  @Property(tries = 300)
  void readsWhatTheTreeReads(@ForAll("objects") String json) throws Exception {
    byte[] utf8 = bytes(json);
    JsonNode tree = MAPPER.readTree(utf8);
    JsonFields fields = JsonFields.parse(utf8);
    assertThat(fields).isNotNull();
    for (String name : JsonFields.NAMES) {
      JsonNode n = tree.get(name);
      assertThat(fields.has(name)).as(name + " in " + json).isEqualTo(n != null);
      assertThat(fields.text(name)).as(name + " in " + json).isEqualTo(RandomJson.scalar(n));
    }
    for (String path : JsonFields.CONTEXT) {
      JsonNode n = RandomJson.at(tree, "context." + path);
      assertThat(fields.context(path)).as(path + " in " + json).isEqualTo(RandomJson.scalar(n));
    }
    for (String name : JsonFields.PROPERTIES) {
      JsonNode n = RandomJson.at(tree, "properties." + name);
      assertThat(fields.property(name)).as(name + " in " + json).isEqualTo(RandomJson.scalar(n));
    }
  }

  @Provide
  Arbitrary<String> objects() {
    Arbitrary<String> names =
        Arbitraries.of(
            "event",
            "url",
            "type",
            "sid",
            "gclid",
            "token",
            "é",
            "a\\\"b",
            "n",
            "ip",
            "\\u0065vent");
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
    Arbitrary<String> scalars =
        Arbitraries.oneOf(strings, numbers, Arbitraries.of("true", "false", "null", "\"\""));
    Arbitrary<String> inner =
        Combinators.combine(Arbitraries.of("url", "referrer", "source", "name", "x"), scalars)
            .as((n, v) -> "\"" + n + "\":" + v)
            .list()
            .ofMaxSize(3)
            .map(fs -> "{" + String.join(",", fs) + "}");
    Arbitrary<String> nested =
        Combinators.combine(
                Arbitraries.of("page", "campaign", "ip", "userAgent", "$current_url", "url"),
                Arbitraries.oneOf(scalars, inner))
            .as((n, v) -> "\"" + n + "\":" + v)
            .list()
            .ofMaxSize(4)
            .map(fs -> "{" + String.join(",", fs) + "}");
    Arbitrary<String> values =
        Arbitraries.oneOf(scalars, Arbitraries.of("{}", "[]", "{\"x\":[1,\"y\"]}", "[{\"a\":1}]"));
    Arbitrary<String> field = Combinators.combine(names, values).as((n, v) -> "\"" + n + "\":" + v);
    Arbitrary<String> container =
        Combinators.combine(Arbitraries.of("context", "properties"), nested)
            .as((n, v) -> "\"" + n + "\":" + v);
    return Arbitraries.oneOf(field, field, container)
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
