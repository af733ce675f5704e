package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchItemsTest {
  @Test
  void itemsKeepTheirExactOriginalText() throws Exception {
    String body = "[ {\"event\": 1.50,  \"url\":\"☃\", \"é\":2} ,{\"page\":{\"deep\":[1,2]}}, 7 ]";
    List<BatchItems.Item> items = BatchItems.parse(body.getBytes(StandardCharsets.UTF_8), 10, 64);

    assertThat(items).hasSize(3);
    assertThat(items.get(0).raw()).isEqualTo("{\"event\": 1.50,  \"url\":\"☃\", \"é\":2}");
    assertThat(items.get(1).raw()).isEqualTo("{\"page\":{\"deep\":[1,2]}}");
    assertThat(items.get(2).error()).isNotNull();
    assertThat(items.get(0).json().text("event")).isEqualTo("1.5");
    assertThat(items.get(0).json().text("url")).isEqualTo("☃");
    assertThat(items.get(1).json().has("page")).isTrue();
    assertThat(items.get(1).json().text("page")).isNull();
    assertThat(items.get(1).json().has("event")).isFalse();
  }

  @Test
  void theBatchFieldOfAnObjectIsUsed() throws Exception {
    List<BatchItems.Item> items =
        BatchItems.parse(
            "{\"context\":{\"x\":[1]},\"batch\":[{\"i\":1}],\"sentAt\":\"t\"}".getBytes(), 10, 64);
    assertThat(items).extracting(BatchItems.Item::raw).containsExactly("{\"i\":1}");
  }

  @Test
  void theEnvelopesOtherFieldsAreKeptBeforeAndAfterTheBatch() throws Exception {
    String body =
        "{\"context\": {\"x\":[1, 2.50]},\"api_key\":\"k\\u0041\",\"batch\":[{\"i\":1}],"
            + "\"sentAt\":\"2026-12-04T10:00:00.000Z\",\"n\":1e3,\"t\":true,\"z\":null}";
    BatchItems.Batch batch =
        BatchItems.split(body.getBytes(StandardCharsets.UTF_8), "batch", 10, 64);

    assertThat(batch.items()).extracting(BatchItems.Item::raw).containsExactly("{\"i\":1}");
    // Strings by value, anything else as its exact text.
    assertThat(batch.envelope())
        .containsExactly(
            Map.entry("context", "{\"x\":[1, 2.50]}"),
            Map.entry("api_key", "kA"),
            Map.entry("sentAt", "2026-12-04T10:00:00.000Z"),
            Map.entry("n", "1e3"),
            Map.entry("t", "true"),
            Map.entry("z", "null"));
    assertThat(BatchItems.split("[{}]".getBytes(), "batch", 10, 64).envelope()).isEmpty();
    assertThat(
            BatchItems.split("{\"schema\":\"s\",\"data\":[{}]}".getBytes(), "data", 10, 64)
                .envelope())
        .containsExactly(Map.entry("schema", "s"));
    assertThatThrownBy(() -> BatchItems.split("{\"batch\":[{}],\"a\":".getBytes(), "batch", 10, 64))
        .isInstanceOf(BatchItems.InvalidBatchException.class);
  }

  @Test
  void nestingIsLimitedWhileSplitting() throws Exception {
    // The outer array is level 1: {"a":[[1]]} inside it reaches 4.
    byte[] atLimit = "[{\"a\":[[1]]},{\"b\":2}]".getBytes(StandardCharsets.UTF_8);
    assertThat(BatchItems.parse(atLimit, 10, 4)).hasSize(2);
    assertThatThrownBy(() -> BatchItems.parse(atLimit, 10, 3))
        .isInstanceOf(BatchItems.TooDeepException.class)
        .hasMessageContaining("at most 3");
    byte[] deepArrays = ("[" + "[".repeat(5000) + "]".repeat(5000) + "]").getBytes();
    assertThatThrownBy(() -> BatchItems.parse(deepArrays, 10, 64))
        .isInstanceOf(BatchItems.TooDeepException.class);
    byte[] deepInBatchField =
        ("{\"batch\":[{\"x\":" + "[".repeat(70) + "]".repeat(70) + "}]}").getBytes();
    assertThatThrownBy(() -> BatchItems.parse(deepInBatchField, 10, 64))
        .isInstanceOf(BatchItems.TooDeepException.class);
    assertThatThrownBy(() -> BatchItems.parse("[{\"a\":[1,}]".getBytes(), 10, 64))
        .isInstanceOf(BatchItems.InvalidBatchException.class);
  }

  @Test
  void malformedBodiesAreRefused() {
    assertThatThrownBy(() -> BatchItems.parse("{\"a\":1}".getBytes(), 10, 64))
        .isInstanceOf(BatchItems.InvalidBatchException.class);
    assertThatThrownBy(() -> BatchItems.parse("[{}".getBytes(), 10, 64))
        .isInstanceOf(BatchItems.InvalidBatchException.class);
    assertThatThrownBy(() -> BatchItems.parse("\"x\"".getBytes(), 10, 64))
        .isInstanceOf(BatchItems.InvalidBatchException.class);
    assertThatThrownBy(() -> BatchItems.parse("[{},{},{}]".getBytes(), 2, 64))
        .isInstanceOf(BatchItems.TooManyItemsException.class);
  }
}
