package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.trellis.ingress.base.RandomJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * A batch is split as a Jackson tree of it reads: random arrays and envelopes of events, some cut
 * short or with one character changed, some nested past the limit. Where the tree refuses the text
 * the split does too; where it reads it, the split has the same items (the same JSON, and the same
 * fields as capture reads them), and the same envelope.
 */
class BatchSplitTest {
  private static final int MAX_DEPTH = 6;
  private static final int MAX_ITEMS = 50;
  private static final String MUTATIONS = "{}[],:\" x1\t\n\r-.e+0\\/'tfnu\u0001é";
  private static final String[] NAMES = {"event", "url", "type", "x", "sentAt", "é", "a\\u0062"};
  private static final String[] SCALARS = {
    "\"v\"",
    "\"\"",
    "\"é☃\"",
    "\"a\\\"b\\u0041\"",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-12.50",
    "1e3",
    "123456789012345678901234",
    "01",
    "tru",
    "\"\\q\"",
    "1.",
    "[]",
    "{}"
  };

  private static final RandomJson TEXTS = new RandomJson(NAMES, SCALARS, 7);

  private static final ObjectMapper TREE =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                  .build())
          .build();

  @Property(tries = 3000)
  void splitsAsTheTreeReadsIt(@ForAll long seed) throws Exception {
    assertSplitsAsTree(text(new Random(seed)));
  }

  @Example
  void theShapesAroundTheItemsSplitAsTheTreeReadsThem() throws Exception {
    for (String text :
        List.of(
            "[]",
            " [ ] ",
            "[{},]",
            "[,{}]",
            "[{}}",
            "[{} {}]",
            "[{}] trailing",
            "[{},7,\"s\",null,[{}]]",
            "{\"batch\":[]}",
            "{\"batch\":[{}],}",
            "{\"batch\":[{}] \"n\":1}",
            "{,\"batch\":[]}",
            "{\"batch\":{}}",
            "{\"batch\":[1,]}",
            "{\"batch\":[{}]}x",
            "{\"batch\":\"x\",\"n\":[]}",
            "{\"sentAt\":\"t\",\"batch\":[{}],\"n\":{\"a\":[1]}}",
            "{\"batch\":[{\"a\":1,}]}",
            "{}",
            "\"batch\"",
            "")) {
      assertSplitsAsTree(text);
    }
  }

  @Example
  void everyCutAndEveryOneCharChangeOfABatchSplitsAsTheTreeReadsIt() throws Exception {
    String body =
        "{\"sentAt\":\"2026-12-04T10:00:00Z\",\"context\":{\"x\":[1,2.50]},\"batch\":[{\"event\":"
            + "\"a\\u0041é\",\"url\":\"https://x/?q=1\",\"x\":{\"y\":[true,null]}},7,{\"type\":-1e2}"
            + ",[]],\"n\":1}";
    assertThat(tree(body)).isNotNull();
    RandomJson.everyCutAndChange(body, MUTATIONS, BatchSplitTest::assertSplitsAsTree);
  }

  private static void assertSplitsAsTree(String text) throws Exception {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    Throwable refused = catchThrowable(() -> split(utf8));
    Exception treeError = null;
    JsonNode tree = null;
    try {
      tree = tree(text);
    } catch (StreamConstraintsException e) {
      treeError = e;
    } catch (IOException e) {
      treeError = e;
    }
    if (treeError instanceof StreamConstraintsException) {
      assertThat(refused).as("too deep: %s", text).isInstanceOf(BatchItems.TooDeepException.class);
      return;
    }
    JsonNode items = tree == null ? null : tree.isArray() ? tree : batchArray(tree);
    if (items == null) {
      assertThat(refused)
          .as("invalid: %s", text)
          .isInstanceOf(BatchItems.InvalidBatchException.class);
      return;
    }
    assertThat(refused).as("split: %s", text).isNull();
    BatchItems.Batch batch = split(utf8);
    assertThat(batch.items()).as("items of %s", text).hasSize(items.size());
    for (int i = 0; i < items.size(); i++) {
      JsonNode expected = items.get(i);
      BatchItems.Item item = batch.items().get(i);
      assertThat(item.index()).isEqualTo(i);
      if (!expected.isObject()) {
        assertThat(item.error()).as("item %d of %s", i, text).isNotNull();
        continue;
      }
      assertThat(item.error()).isNull();
      assertThat(TREE.readTree(item.raw())).as("item %d of %s", i, text).isEqualTo(expected);
      for (String name : List.of("event", "url", "type")) {
        assertThat(item.json().text(name))
            .as("%s of item %d of %s", name, i, text)
            .isEqualTo(RandomJson.scalar(expected.get(name)));
        assertThat(item.json().has(name)).isEqualTo(expected.has(name));
      }
    }
    List<Map.Entry<String, JsonNode>> envelope = new ArrayList<>();
    if (tree.isObject()) {
      boolean batchSeen = false;
      for (Iterator<Map.Entry<String, JsonNode>> f = tree.fields(); f.hasNext(); ) {
        Map.Entry<String, JsonNode> e = f.next();
        if (!batchSeen && e.getKey().equals("batch") && e.getValue().isArray()) {
          batchSeen = true;
          continue;
        }
        envelope.add(e);
      }
    }
    assertThat(batch.envelope()).as("envelope of %s", text).hasSize(envelope.size());
    for (int i = 0; i < envelope.size(); i++) {
      Map.Entry<String, String> got = batch.envelope().get(i);
      JsonNode expected = envelope.get(i).getValue();
      assertThat(got.getKey()).isEqualTo(envelope.get(i).getKey());
      if (expected.isTextual()) {
        assertThat(got.getValue()).isEqualTo(expected.textValue());
      } else {
        assertThat(TREE.readTree(got.getValue())).isEqualTo(expected);
      }
    }
  }

  private static BatchItems.Batch split(byte[] utf8) throws Exception {
    return BatchItems.split(utf8, "batch", MAX_ITEMS, MAX_DEPTH);
  }

  /* The generator writes no repeated names in an envelope, so the tree's "batch" is the split's. */
  private static JsonNode batchArray(JsonNode tree) {
    JsonNode b = tree.isObject() ? tree.get("batch") : null;
    return b != null && b.isArray() ? b : null;
  }

  /* The tree of the first JSON value of the text (what follows it is not read); null if none. */
  private static JsonNode tree(String text) throws IOException {
    try (JsonParser p = TREE.getFactory().createParser(text.getBytes(StandardCharsets.UTF_8))) {
      return p.nextToken() == null ? null : TREE.readTree(p);
    }
  }

  private static String text(Random r) {
    StringBuilder b = new StringBuilder();
    List<String> items = new ArrayList<>();
    int n = r.nextInt(5);
    for (int i = 0; i < n; i++) {
      StringBuilder item = new StringBuilder();
      if (r.nextInt(5) == 0) {
        TEXTS.value(r, item, 2);
      } else {
        TEXTS.object(r, item, 2);
      }
      items.add(item.toString());
    }
    String array = "[" + String.join(",", items) + "]";
    if (r.nextBoolean()) {
      b.append(array);
    } else {
      b.append("{\"sentAt\":\"t\",");
      if (r.nextBoolean()) {
        b.append("\"context\":");
        TEXTS.object(r, b, 2);
        b.append(',');
      }
      b.append("\"batch\":").append(array);
      if (r.nextBoolean()) {
        b.append(",\"n\":");
        TEXTS.value(r, b, 2);
      }
      b.append('}');
    }
    String s = b.toString();
    switch (r.nextInt(5)) {
      case 0 -> s = RandomJson.cut(r, s);
      case 1 -> s = RandomJson.changeOneChar(r, s, MUTATIONS);
      default -> {}
    }
    return s;
  }
}
