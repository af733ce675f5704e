package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestDataTest {

  @Test
  void summaryShowsNoHeaderOrQueryWhereCredentialsTravel() {
    String key = "trk_abcdefghijkl_0123456789abcdefghijABCDEFGHIJ01";
    RequestData req =
        new RequestData(
            "GET",
            "http://ingest.example/pixel?api_key=" + key + "&e=1",
            List.of(Map.entry("Authorization", "Bearer " + key)),
            List.of(Map.entry("api_key", key)),
            "203.0.113.9",
            0);

    assertThat(req.toString()).isEqualTo("RequestData{GET http://ingest.example/pixel}");
  }
}
