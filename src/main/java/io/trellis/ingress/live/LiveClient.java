package io.trellis.ingress.live;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a running service's live stream ({@code GET /live/events} on the admin port) for the {@code
 * tail} command: each event's stored record, and the count of events dropped because the reader
 * fell behind. Not thread-safe.
 */
public final class LiveClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the stream delivers. */
  public interface Listener {
    /** One event's stored record (one JSON line); false stops reading. */
    boolean event(String record);

    /** The total of events dropped for this reader so far. */
    void dropped(long total);
  }

  /** The service refused the stream, or answered something that is not one. */
  public static final class RefusedException extends IOException {
    public RefusedException(String message) {
      super(message);
    }
  }

  private final URI base;

  public LiveClient(URI base) {
    this.base = requireNonNull(base, "base is null");
  }

  /** The stream's address for these filters (empty values are left out). */
  URI uri(String org, String type, String endpoint, String text) {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("org", org);
    q.put("type", type);
    q.put("endpoint", endpoint);
    q.put("q", text);
    StringBuilder sb =
        new StringBuilder(base.toString().replaceAll("/+$", "")).append("/live/events");
    char sep = '?';
    for (Map.Entry<String, String> e : q.entrySet()) {
      if (e.getValue() != null && !e.getValue().isEmpty()) {
        sb.append(sep).append(e.getKey()).append('=');
        sb.append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        sep = '&';
      }
    }
    return URI.create(sb.toString());
  }

  /**
   * Streams until the listener says stop (returns normally) or the service ends the stream
   * (throws). A refusal (too many viewers, host not allowed) throws with the service's message.
   */
  public void stream(String org, String type, String endpoint, String text, Listener listener)
      throws IOException, InterruptedException {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpRequest req =
        HttpRequest.newBuilder(uri(org, type, endpoint, text))
            .header("Accept", "text/event-stream")
            .GET()
            .build();
    HttpResponse<InputStream> res;
    try {
      res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    } catch (java.net.ConnectException e) {
      throw new RefusedException(
          "cannot connect to " + base + " (is the service running, with its admin port there?)");
    }
    try (InputStream body = res.body()) {
      if (res.statusCode() != 200) {
        String answer = new String(body.readAllBytes(), StandardCharsets.UTF_8);
        String message = answer;
        try {
          JsonNode n = JSON.readTree(answer);
          message = n.path("message").asText(answer);
        } catch (IOException e) {
          // not JSON: the text as it came
        }
        throw new RefusedException(
            base + " answered " + res.statusCode() + (message.isBlank() ? "" : ": " + message));
      }
      BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
      String event = "message";
      StringBuilder data = new StringBuilder();
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          if (data.length() > 0 && !deliver(event, data.toString(), listener)) {
            return;
          }
          event = "message";
          data.setLength(0);
        } else if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          if (data.length() > 0) {
            data.append('\n');
          }
          data.append(line, 6, line.length());
        }
      }
      throw new RefusedException("the service ended the stream (stopped or restarted)");
    }
  }

  private static boolean deliver(String event, String data, Listener listener) throws IOException {
    switch (event) {
      case "event" -> {
        return listener.event(data);
      }
      case "dropped" -> listener.dropped(JSON.readTree(data).path("dropped").asLong());
      default -> {
        // hello and whatever later versions add
      }
    }
    return true;
  }
}
