package io.trellis.ingress.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.testing.RunningService;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminPortIT {
  @TempDir static Path dir;
  static RunningService service;
  static String key;

  @BeforeAll
  static void start() {
    service = RunningService.start(dir);
    key = service.createKey("acme");
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  private static HttpResponse<String> admin(String path) {
    return service.send(HttpRequest.newBuilder(service.adminUri(path)).GET());
  }

  @Test
  void healthzAndReadyzAnswerOnTheAdminPort() {
    HttpResponse<String> health = admin("/healthz");
    HttpResponse<String> ready = admin("/readyz");

    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(RunningService.json(ready.body()).path("status").asText()).isEqualTo("ready");
  }

  @Test
  void adminEndpointsAreNotReachableOnTheCapturePort() {
    for (String path : new String[] {"/metrics", "/healthz", "/readyz"}) {
      assertThat(service.get(path).statusCode()).as(path).isEqualTo(404);
    }
  }

  @Test
  void captureEndpointsAreNotServedOnTheAdminPort() {
    assertThat(admin("/track?api_key=" + key).statusCode()).isEqualTo(404);
  }

  @Test
  void metricsArePrometheusTextWithJvmAndProcessFamilies() {
    service.postJson("/events", key, "{\"event\":\"m\"}");
    HttpResponse<String> res = admin("/metrics");

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type"))
        .hasValueSatisfying(ct -> assertThat(ct).startsWith("text/plain"));
    assertThat(res.body())
        .contains("# TYPE jvm_memory_used_bytes gauge")
        .contains("process_cpu_usage")
        .contains("jvm_threads_live_threads")
        .contains("process_uptime_seconds")
        .doesNotContain(key);
  }
}
