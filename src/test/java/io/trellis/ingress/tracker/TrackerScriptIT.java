package io.trellis.ingress.tracker;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.capture.ClickIds;
import io.trellis.ingress.testing.NodeClients;
import io.trellis.ingress.testing.RunningService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /trellis.js: the committed build is what the pinned esbuild makes of the source, it stays
 * small, knows every click id the server extracts, and is served cacheable to any site.
 */
class TrackerScriptIT {
  static final Path BUILT = Paths.get("src/main/resources/tracker/trellis.js");
  static final Path SOURCE = Paths.get("clients/tracker/trellis.js");

  @TempDir Path dir;

  @Test
  void theCommittedBuildIsWhatTheSourceBuildsTo() throws IOException {
    Path clients = NodeClients.clientsDir();
    Path fresh = dir.resolve("trellis.js");
    NodeClients.Result r =
        NodeClients.run(
            clients, 120, "npm", "run", "-s", "build:tracker", "--", "--outfile=" + fresh);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(Files.readString(fresh)).matches("\\p{ASCII}*");
    assertThat(Files.readString(fresh))
        .as("src/main/resources/tracker/trellis.js is stale: run npm run build:tracker in clients/")
        .isEqualTo(Files.readString(BUILT));
  }

  @Test
  void theScriptKnowsEveryClickIdTheServerExtracts() throws IOException {
    String built = Files.readString(BUILT);
    for (String name : ClickIds.PLATFORMS) {
      assertThat(built).contains("\"" + name + "\"");
    }
    for (String name : ClickIds.GENERIC) {
      assertThat(built).contains("\"" + name + "\"");
    }
    assertThat(Files.readString(SOURCE)).contains("'utm_source'", "'utm_campaign'");
  }

  @Test
  void servedGzippedUnderFiveKilobytesWithAnEtagAndRevalidated() throws IOException {
    try (RunningService service = RunningService.start(dir)) {
      HttpResponse<byte[]> gz =
          service.sendForBytes(
              HttpRequest.newBuilder(service.uri("/trellis.js"))
                  .header("Accept-Encoding", "gzip")
                  .header("Origin", "https://shop.example"));
      assertThat(gz.statusCode()).isEqualTo(200);
      assertThat(gz.headers().firstValue("content-encoding")).hasValue("gzip");
      assertThat(gz.body().length).isLessThan(5 * 1024);
      assertThat(gunzip(gz.body())).isEqualTo(Files.readString(BUILT));
      assertThat(gz.headers().firstValue("content-type")).hasValue("text/javascript");
      assertThat(gz.headers().firstValue("cache-control")).hasValue("public, max-age=86400");
      assertThat(gz.headers().firstValue("access-control-allow-origin")).hasValue("*");
      assertThat(gz.headers().firstValue("cross-origin-resource-policy")).hasValue("cross-origin");
      String etag = gz.headers().firstValue("etag").orElseThrow();

      HttpResponse<String> plain = service.get("/trellis.js");
      assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
      assertThat(plain.body()).isEqualTo(Files.readString(BUILT));
      assertThat(plain.headers().firstValue("etag")).hasValue(etag);

      HttpResponse<String> again =
          service.send(
              HttpRequest.newBuilder(service.uri("/trellis.js")).header("If-None-Match", etag));
      assertThat(again.statusCode()).isEqualTo(304);
      assertThat(again.body()).isEmpty();

      HttpResponse<String> post =
          service.send(
              HttpRequest.newBuilder(service.uri("/trellis.js"))
                  .POST(HttpRequest.BodyPublishers.ofString("x")));
      assertThat(post.statusCode()).isEqualTo(404);
    }
  }

  private static String gunzip(byte[] body) throws IOException {
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(body))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(StandardCharsets.UTF_8);
    }
  }
}
