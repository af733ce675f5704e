package io.trellis.ingress.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.event.TrafficEvent;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LiveViewerTest {
  private static TrafficEvent event(String org, String type, String url) {
    return new TrafficEvent(
        org, "id", 0, "POST", url, "{}", "{}", "", "", "", "", type, "", "", "", "", "");
  }

  @Test
  void aFullQueueDropsAndCountsAndTheNextDrainSaysHowMany() {
    LiveViewer v = new LiveViewer(LiveFilter.ALL, 100);
    byte[] frame = "x".repeat(40).getBytes(StandardCharsets.UTF_8);

    assertThat(v.offer(frame)).isTrue();
    assertThat(v.offer(frame)).isTrue();
    assertThat(v.offer(frame)).isFalse();
    assertThat(v.offer(frame)).isFalse();
    assertThat(v.queuedBytes()).isEqualTo(80);

    Buffer out = Buffer.buffer();
    v.drainTo(out, 1000);
    assertThat(out.toString()).startsWith("event: dropped\ndata: {\"dropped\":2}\n\n");
    assertThat(out.length()).isEqualTo("event: dropped\ndata: {\"dropped\":2}\n\n".length() + 80);
    assertThat(v.queuedBytes()).isZero();

    Buffer again = Buffer.buffer();
    v.drainTo(again, 1000);
    assertThat(again.length()).isZero(); // no news: no second dropped frame
  }

  @Test
  void aViewerWithNoRoomForTheSmallestRecordIsFullAndDropsCount() {
    LiveViewer v = new LiveViewer(LiveFilter.ALL, 1000);
    v.offer(new byte[700]);
    assertThat(v.full()).isFalse();
    v.offer(new byte[100]);
    assertThat(v.full()).isTrue();
    v.drop();
    v.drop();
    assertThat(v.dropped()).isEqualTo(2);
  }

  @Test
  void aDrainTakesAboutItsBudgetAndAtLeastOneFrame() {
    LiveViewer v = new LiveViewer(LiveFilter.ALL, 10_000);
    byte[] big = new byte[300];
    for (int i = 0; i < 5; i++) {
      v.offer(big);
    }
    Buffer out = Buffer.buffer();
    v.drainTo(out, 100);
    assertThat(out.length()).isEqualTo(300);
    out = Buffer.buffer();
    v.drainTo(out, 700);
    assertThat(out.length()).isEqualTo(600);
  }

  @Test
  void filtersMatchOrganizationTypeEndpointAndTextEachExactlyOrAnywhere() {
    TrafficEvent e = event("acme", "signup", "http://h:8080/v1/track?x=1");
    String record = "{\"body\":\"gclid=ABC\"}";

    assertThat(LiveFilter.ALL.matches(e, ev -> record)).isTrue();
    assertThat(new LiveFilter("acme", "", "", "").matches(e, ev -> record)).isTrue();
    assertThat(new LiveFilter("acm", "", "", "").matches(e, ev -> record)).isFalse();
    assertThat(new LiveFilter("", "signup", "", "").matches(e, ev -> record)).isTrue();
    assertThat(new LiveFilter("", "sign", "", "").matches(e, ev -> record)).isFalse();
    assertThat(new LiveFilter("", "", "v1/track", "").matches(e, ev -> record)).isTrue();
    assertThat(new LiveFilter("", "", "/v1", "").matches(e, ev -> record)).isFalse();
    assertThat(new LiveFilter("", "", "", "GCLID=abc").matches(e, ev -> record.toLowerCase()))
        .isTrue();
    assertThat(new LiveFilter("", "", "", "fbclid").matches(e, ev -> record)).isFalse();
    assertThat(LiveFilter.endpointOf("https://h/pixel#x")).isEqualTo("/pixel");
    assertThat(LiveFilter.endpointOf("http://h:1")).isEqualTo("/");
  }
}
