package io.trellis.ingress.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class KeyRedactorTest {
  private static final String KEY = "trk_abcdefghijkl_0123456789ABCDEFGHIJKLMNOPQRSTUV";
  private final KeyRedactor r = KeyRedactor.of(KEY);

  @Test
  void textWithoutTheKeyIsReturnedAsTheSameInstance() {
    String text = "{\"a\":\"100%\",\"b\":\"\\u00e9 trk_other\"}";

    assertThat(r.scrub(text)).isSameAs(text);
  }

  @Test
  void everyEncodingAndMixesOfThemAreReplacedWhole() {
    assertThat(r.scrub("k=" + KEY + "&x")).isEqualTo("k=[redacted]&x");
    assertThat(r.scrub("k=trk%5Fabcdefghijkl%5f0123456789ABCDEFGHIJKLMNOPQRSTUV&x"))
        .isEqualTo("k=[redacted]&x");
    assertThat(r.scrub("\"trk\\u005Fabcdefghijkl\\u005f0123456789ABCDEFGHIJKLMNOPQRSTUV\""))
        .isEqualTo("\"[redacted]\"");
    assertThat(r.scrub("%74rk_abcdefghijkl\\u005f0123456789ABCDEFGHIJKLMNOPQRSTUV"))
        .isEqualTo("[redacted]");
  }

  @Test
  void basicCredentialsAreReplacedWithTheirPassword() {
    String basic =
        Base64.getEncoder().encodeToString((KEY + ":pw").getBytes(StandardCharsets.UTF_8));
    String urlSafe =
        Base64.getUrlEncoder().encodeToString((KEY + ":").getBytes(StandardCharsets.UTF_8));

    assertThat(r.scrub("Basic " + basic + ", next")).isEqualTo("Basic [redacted], next");
    assertThat(r.scrub("t=" + urlSafe.replace("=", "%3D") + "&y=1")).isEqualTo("t=[redacted]&y=1");
  }

  @Test
  void aNearMissIsKept() {
    String text = "trk%5Fabcdefghijkl%5F0123456789ABCDEFGHIJKLMNOPQRSTU";

    assertThat(r.scrub(text)).isEqualTo(text);
  }
}
