package io.trellis.ingress.spool;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.Await;
import io.trellis.ingress.testing.RunningService;
import io.trellis.ingress.testing.SmallDisk;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that is really full (a small tmpfs filled by another file): readiness follows the writes
 * that fail, comes back by itself when there is room, and a service started on a full disk starts,
 * says it is not ready, answers 503 and delivers what its spool holds.
 */
class FullDiskIT {
  @TempDir Path dir;

  @Test
  void readinessFollowsFailingWritesAndComesBackWhenTheDiskHasRoom() throws Exception {
    Path disk = dir.resolve("disk");
    try (SmallDisk mounted = SmallDisk.mount(disk, "16m");
        RunningService service =
            RunningService.start(
                disk.resolve("data"),
                Map.of(
                    "spool.segment-size",
                    "2MiB",
                    "spool.max-record-size",
                    "1MiB",
                    "spool.max-bytes",
                    "8MiB"))) {
      String key = service.createKey("acme");
      assertThat(post(service, key, "before").statusCode()).isEqualTo(200);
      assertThat(readyz(service).statusCode()).isEqualTo(200);

      // Something else (here a plain file; in production, say, the files sink) fills the disk.
      Path filler = disk.resolve("filler");
      SmallDisk.fill(filler);
      // The last page of the segment file may still hold an event or two.
      HttpResponse<String> refused = postUntilRefused(service, key);
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
      assertThat(refused.body()).contains("\"error\":\"unavailable\"");
      HttpResponse<String> notReady = readyz(service);
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).contains("not_ready").contains("No space left on device");

      // Room again: readiness returns without a single request being sent to the capture port.
      Files.delete(filler);
      Await.until(
          () -> readyz(service).statusCode() == 200,
          Duration.ofSeconds(10),
          () -> "readyz: " + readyz(service).body());
      assertThat(post(service, key, "after").statusCode()).isEqualTo(200);
      service.awaitStored(
          events ->
              events.stream()
                      .filter(
                          e ->
                              e.path("body").asText().contains("before")
                                  || e.path("body").asText().contains("after"))
                      .count()
                  == 2);
    }
  }

  @Test
  void aServiceStartedOnAFullDiskDrainsItsSpoolAndSaysItIsNotReady() throws Exception {
    Path data = dir.resolve("data");
    Path spoolDisk = data.resolve("spool");
    try (SmallDisk mounted = SmallDisk.mount(spoolDisk, "12m")) {
      Map<String, String> settings =
          Map.of(
              "spool.segment-size",
              "2MiB",
              "spool.max-record-size",
              "1MiB",
              "spool.drain-timeout",
              "200ms");
      List<String> acked = new ArrayList<>();
      // The files sink cannot write organization acme's directory (a file is in its way), so the
      // spool keeps acme's events; organization early's event is delivered, which writes the
      // sink's cursor.
      Path blocker = data.resolve("events").resolve("org=acme");
      Files.createDirectories(blocker.getParent());
      Files.writeString(blocker, "in the way");
      try (RunningService first = RunningService.start(data, settings)) {
        String early = first.createKey("early");
        assertThat(post(first, early, "early").statusCode()).isEqualTo(200);
        first.awaitStored(events -> events.size() == 1);
        Await.until(
            () -> Files.exists(spoolDisk.resolve("cursors/files.cursor")),
            Duration.ofSeconds(10),
            () -> "no cursor written");
        String key = first.createKey("acme");
        for (int i = 0; i < 200; i++) {
          HttpResponse<String> r = post(first, key, "e" + i);
          assertThat(r.statusCode()).isEqualTo(200);
          acked.add(RunningService.json(r.body()).path("event_id").asText());
        }
      }
      SmallDisk.fill(spoolDisk.resolve("filler"));
      Files.delete(blocker);

      try (RunningService second = RunningService.start(data, settings)) {
        HttpResponse<String> notReady = readyz(second);
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).contains("No space left on device");
        String key = second.createKey("acme2");
        HttpResponse<String> refused = postUntilRefused(second, key);
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        // What the spool held reaches the sink.
        second.awaitStored(
            events ->
                events.stream().map(e -> e.path("event_id").asText()).toList().containsAll(acked));

        Files.delete(spoolDisk.resolve("filler"));
        Await.until(
            () -> readyz(second).statusCode() == 200,
            Duration.ofSeconds(10),
            () -> "readyz: " + readyz(second).body());
        assertThat(post(second, key, "later").statusCode()).isEqualTo(200);
      }
    }
  }

  /** Posts events until one is refused (at most 100): the answer of the refused one. */
  private static HttpResponse<String> postUntilRefused(RunningService s, String key) {
    HttpResponse<String> r = null;
    for (int i = 0; i < 100; i++) {
      r = post(s, key, "while-full-" + i);
      if (r.statusCode() != 200) {
        return r;
      }
    }
    return r;
  }

  private static HttpResponse<String> post(RunningService s, String key, String id) {
    return s.postJson("/events", key, "{\"event\":\"view\",\"mark\":\"" + id + "\"}");
  }

  private static HttpResponse<String> readyz(RunningService s) {
    return s.send(HttpRequest.newBuilder(s.adminUri("/readyz")).GET());
  }
}
