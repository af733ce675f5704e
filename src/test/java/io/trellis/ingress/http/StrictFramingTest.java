package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.http.impl.VertxHttpResponseEncoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * How {@link StrictFraming} finds the handlers it takes the place of, on a Netty pipeline of its
 * own: by their classes, whatever Vert.x names them, and a connection without them is closed rather
 * than served without strict framing.
 */
class StrictFramingTest {
  private static final byte[] GET =
      "GET /events HTTP/1.1\r\nHost: shop.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  @Test
  void vertxsDecoderIsReplacedWhateverItsName() {
    HttpServerOptions options = new HttpServerOptions();
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.pipeline().addLast(StrictFraming.NAME, new StrictFraming(options));
    channel.pipeline().addLast("someDecoder", new VertxHttpRequestDecoder(options));
    channel.pipeline().addLast("someEncoder", new VertxHttpResponseEncoder());

    channel.writeInbound(Unpooled.wrappedBuffer(GET));

    assertThat(channel.pipeline().get("someDecoder")).isInstanceOf(StrictFraming.Decoder.class);
    assertThat(channel.pipeline().names())
        .containsSubsequence("someDecoder", "someEncoder", StrictFraming.Answers.NAME)
        .doesNotContain(StrictFraming.NAME);
    HttpRequest request = channel.readInbound();
    assertThat(request.uri()).isEqualTo("/events");
    assertThat(channel.isActive()).isTrue();
    channel.finishAndReleaseAll();
  }

  @Test
  void withoutVertxsDecoderTheConnectionIsClosedUnread() {
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.pipeline().addLast(StrictFraming.NAME, new StrictFraming(new HttpServerOptions()));
    channel.pipeline().addLast("someEncoder", new VertxHttpResponseEncoder());

    channel.writeInbound(Unpooled.wrappedBuffer(GET));

    assertThat(channel.isActive()).isFalse();
    // Only the blank line that makes Vert.x choose HTTP/1 went on; the request itself did not.
    StringBuilder seen = new StringBuilder();
    for (ByteBuf b; (b = channel.readInbound()) != null; b.release()) {
      seen.append(b.toString(StandardCharsets.US_ASCII));
    }
    assertThat(seen.toString()).isEqualTo("\r\n");
  }
}
