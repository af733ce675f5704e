package io.trellis.ingress.capture;

import io.trellis.ingress.base.JsonScanner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Splits a batch body, a JSON array or an object {@code {"batch": [...]}}, into its items. Each
 * item keeps its exact original text (a slice of the body), so what is stored is what was sent. The
 * other fields of an object (the envelope: Segment's {@code sentAt} and {@code context}, PostHog's
 * {@code sent_at}, Snowplow's {@code schema}) are kept too, each as its string value or its exact
 * JSON text: they describe every item, and are stored with each.
 */
public final class BatchItems {
  /**
   * One array element: the object's top-level fields and its bytes {@code body[start, end)}, or why
   * it was rejected (then {@code body} is null and the offsets 0).
   */
  public record Item(int index, JsonFields json, String error, int start, int end, byte[] body) {
    /** The item's exact text, decoded from the body on each call; null for a rejected item. */
    public String raw() {
      return body == null ? null : new String(body, start, end - start, StandardCharsets.UTF_8);
    }

    /** Index and offsets only: the body is the whole request's. */
    @Override
    public String toString() {
      return "Item{"
          + index
          + ", "
          + start
          + ".."
          + end
          + (error == null ? "" : ", " + error)
          + "}";
    }
  }

  /** The body is not valid JSON or not of the batch shape (400). */
  public static final class InvalidBatchException extends Exception {
    public InvalidBatchException(String message) {
      super(message, null, false, false);
    }
  }

  /** More items than allowed (413). */
  public static final class TooManyItemsException extends Exception {
    public TooManyItemsException(String message) {
      super(message, null, false, false);
    }
  }

  /** Objects and arrays nest deeper than allowed (400). */
  public static final class TooDeepException extends Exception {
    public TooDeepException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * A split batch: its items, and the envelope's other fields in body order (empty for an array), a
   * string as its value and anything else as its exact JSON text.
   */
  public record Batch(List<Item> items, List<Map.Entry<String, String>> envelope) {}

  private BatchItems() {}

  /** Splits a batch whose object form holds its items in {@code "batch"}. */
  public static List<Item> parse(byte[] body, int maxItems, int maxDepth)
      throws InvalidBatchException, TooManyItemsException, TooDeepException {
    return parse(body, "batch", maxItems, maxDepth);
  }

  /**
   * Splits the batch, a JSON array or an object whose {@code field} holds the array (Snowplow's
   * envelope calls it {@code "data"}); objects and arrays may nest at most {@code maxDepth} levels,
   * the outer array included. The limit is checked by the parser in the same pass that splits the
   * items.
   */
  public static List<Item> parse(byte[] body, String field, int maxItems, int maxDepth)
      throws InvalidBatchException, TooManyItemsException, TooDeepException {
    return split(body, field, maxItems, maxDepth).items();
  }

  /**
   * The same, with the envelope's other fields. One pass of {@link JsonScanner} over the bytes
   * checks the JSON, counts the nesting and reads each item's fields ({@link JsonFields}); the
   * bytes are valid UTF-8 (the capture step checks every body first). As with a streaming parser,
   * nothing after the batch's closing bracket or brace is read.
   */
  public static Batch split(byte[] body, String field, int maxItems, int maxDepth)
      throws InvalidBatchException, TooManyItemsException, TooDeepException {
    JsonScanner s = new JsonScanner(body, 0, body.length, maxDepth);
    try {
      return items(s, body, field, maxItems);
    } catch (JsonScanner.TooDeep e) {
      throw new TooDeepException("JSON objects and arrays may nest at most " + maxDepth + " deep");
    } catch (JsonScanner.Malformed e) {
      throw new InvalidBatchException("invalid JSON: " + e.getMessage());
    }
  }

  private static Batch items(JsonScanner s, byte[] body, String field, int maxItems)
      throws JsonScanner.Malformed, InvalidBatchException, TooManyItemsException {
    int c = s.nonSpace();
    if (c != '{' && c != '[') {
      throw notABatch(field);
    }
    s.enter();
    if (c == '[') {
      return new Batch(elements(s, body, maxItems), List.of());
    }
    List<Map.Entry<String, String>> envelope = new ArrayList<>(4);
    // The fields before the array, then the array, then the fields after it: the envelope holds
    // both.
    List<Item> items = null;
    c = s.nonSpace();
    if (c == '}') {
      throw notABatch(field);
    }
    while (true) {
      if (c != '"') {
        throw s.malformed("expected a name");
      }
      String name = s.name();
      s.colon();
      c = s.nonSpace();
      if (items == null && c == '[' && name.equals(field)) {
        s.enter();
        items = elements(s, body, maxItems);
      } else {
        envelopeField(s, c, body, name, envelope);
      }
      if (!s.more('}')) {
        break;
      }
      c = s.nonSpace();
    }
    if (items == null) {
      throw notABatch(field);
    }
    return new Batch(items, envelope);
  }

  private static InvalidBatchException notABatch(String field) {
    return new InvalidBatchException(
        "expected a JSON array of events or an object with a \"" + field + "\" array");
  }

  /** The elements of the array whose <code>[</code> was just read, up to its <code>]</code>. */
  private static List<Item> elements(JsonScanner s, byte[] body, int maxItems)
      throws JsonScanner.Malformed, InvalidBatchException, TooManyItemsException {
    List<Item> items = new ArrayList<>();
    int c = s.nonSpace();
    if (c == ']') {
      s.leave();
      return items;
    }
    int index = 0;
    while (true) {
      if (index >= maxItems) {
        throw new TooManyItemsException("a batch may hold at most " + maxItems + " events");
      }
      int start = s.position() - 1;
      if (c == '{') {
        JsonFields fields = JsonFields.read(s);
        items.add(new Item(index, fields, null, start, s.position(), body));
      } else {
        s.skip(c);
        items.add(new Item(index, null, "item is not a JSON object", 0, 0, null));
      }
      index++;
      if (!s.more(']')) {
        return items;
      }
      c = s.nonSpace();
    }
  }

  /**
   * Adds a field of the envelope, whose value's first byte {@code c} was just read: a string as its
   * value, anything else as its exact JSON text.
   */
  private static void envelopeField(
      JsonScanner s, int c, byte[] body, String name, List<Map.Entry<String, String>> envelope)
      throws JsonScanner.Malformed {
    if (c == '"') {
      envelope.add(Map.entry(name, s.string()));
      return;
    }
    int start = s.position() - 1;
    s.skip(c);
    envelope.add(
        Map.entry(name, new String(body, start, s.position() - start, StandardCharsets.UTF_8)));
  }
}
