package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The path prefix a trusted proxy's {@code X-Forwarded-Prefix} names ({@link RequestUrls}). */
class RequestUrlsTest {
  @Test
  void aPrefixIsEveryPathItNamesJoinedWithoutTrailingSlashes() {
    assertThat(RequestUrls.pathPrefix(null)).isEmpty();
    assertThat(RequestUrls.pathPrefix("/collect")).isEqualTo("/collect");
    assertThat(RequestUrls.pathPrefix("/collect//")).isEqualTo("/collect");
    assertThat(RequestUrls.pathPrefix("/")).isEmpty();
    assertThat(RequestUrls.pathPrefix(" /a , /b/c/ ")).isEqualTo("/a/b/c");
    assertThat(RequestUrls.pathPrefix("/a%2Fb/%e2%82%ac/~x.y_z-!$&'()*+;=:@"))
        .isEqualTo("/a%2Fb/%e2%82%ac/~x.y_z-!$&'()*+;=:@");
  }

  @Test
  void aPrefixWithAnyPartThatIsNotAPathNamesNone() {
    for (String notAPath :
        new String[] {
          "",
          "a",
          "collect",
          "/a b",
          "/a?b",
          "/a#b",
          "/a\"b",
          "/a<b",
          "/a\\b",
          "/a%",
          "/a%4",
          "/a%4G",
          "/a%\uff14\uff11",
          "/\u00e9",
          "/a\u0661",
          "/a,",
          "/a, b",
          ",/a",
          "/a,,/b"
        }) {
      assertThat(RequestUrls.pathPrefix(notAPath)).as(notAPath).isEmpty();
    }
  }

  @Test
  void aPrefixAsLongAsAHeaderIsCheckedWithoutOverflowingTheStack() throws Exception {
    // 64 KiB, the largest request head's headers, on a thread with a small stack: a regular
    // expression's repeated group recursed once per char and overflowed it near 1,000.
    String[] results = new String[3];
    Thread t =
        new Thread(
            null,
            () -> {
              results[0] = RequestUrls.pathPrefix("/a".repeat(32 * 1024));
              results[1] = RequestUrls.pathPrefix("/" + "%41".repeat(21 * 1024));
              results[2] = RequestUrls.pathPrefix("/" + "a".repeat(64 * 1024) + " ");
            },
            "small stack",
            256 * 1024);
    t.start();
    t.join();
    assertThat(results[0]).hasSize(64 * 1024);
    assertThat(results[1]).hasSize(1 + 63 * 1024);
    assertThat(results[2]).hasSize(1 + 64 * 1024);
  }
}
