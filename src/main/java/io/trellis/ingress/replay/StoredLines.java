package io.trellis.ingress.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.ingress.event.TrafficEvent;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * Reads back the lines the files sink and the dead letters wrote (docs/files-sink.md) as events.
 * {@code headers} and {@code query_params} become their JSON text again; {@code ingested_at} is
 * left behind, since the target sink stores its own. Thread-safe.
 */
final class StoredLines {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern UUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private StoredLines() {}

  /** A line that is not a stored event. */
  static final class UnreadableLineException extends Exception {
    UnreadableLineException(String message) {
      super(message);
    }
  }

  /** One files-sink line, or the {@code event} of a dead-letter line. */
  static TrafficEvent parse(String line, boolean deadLetter) throws UnreadableLineException {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new UnreadableLineException("not JSON: " + e.getOriginalMessage());
    }
    if (deadLetter) {
      if (n == null || !n.path("event").isObject()) {
        throw new UnreadableLineException(
            "a dead letter without its event (raw_base64 records cannot be replayed)");
      }
      n = n.get("event");
    }
    if (n == null || !n.isObject()) {
      throw new UnreadableLineException("not a JSON object");
    }
    String id = n.path("event_id").asText("");
    if (!UUID.matcher(id).matches()) {
      throw new UnreadableLineException("event_id is not a canonical UUID: " + id);
    }
    String org = n.path("organization_id").asText("");
    if (org.isEmpty()) {
      throw new UnreadableLineException("no organization_id");
    }
    long timestamp;
    try {
      timestamp = Instant.parse(n.path("timestamp").asText("")).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new UnreadableLineException("timestamp is not ISO-8601: " + n.path("timestamp"));
    }
    return new TrafficEvent(
        org,
        id,
        timestamp,
        text(n, "method"),
        text(n, "url"),
        object(n, "headers"),
        object(n, "query_params"),
        text(n, "body"),
        text(n, "ip"),
        text(n, "user_agent"),
        text(n, "referer"),
        text(n, "event_type"),
        text(n, "click_id"),
        text(n, "session_id"),
        text(n, "source"),
        text(n, "medium"),
        text(n, "campaign"),
        text(n, "body_base64"));
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? "" : v.asText();
  }

  private static String object(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? "{}" : v.toString();
  }
}
