package io.trellis.ingress.http;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Puts a request decoder that keeps both framing headers in place of Vert.x's, on every HTTP/1
 * connection. Netty's decoder drops the {@code Content-Length} of a request that also says {@code
 * Transfer-Encoding: chunked} and goes on with the connection, so the handler could not tell such a
 * request from a plain chunked one; RFC 9112 §6.3 asks the server to close the connection after
 * answering it, since a proxy in front may have framed the body by the other header and hidden a
 * request in it (request smuggling). With both headers kept, {@link CaptureHandler} refuses it.
 *
 * <p>Vert.x adds its decoder only once the first bytes of a connection show HTTP/1 rather than the
 * HTTP/2 preface. This handler sits first in each new connection's pipeline (placed by {@link
 * LimitedNioTransport}): it holds the first bytes until they differ from the preface, lets Vert.x
 * choose HTTP/1 with a blank line (which the decoder skips), swaps the decoder while it holds no
 * bytes, passes the real bytes on and leaves. A connection that sends the preface is left alone.
 * Relies on Vert.x's decoder name and class (internal API of the Vert.x version in the build;
 * RequestSmugglingIT fails if they change).
 */
final class StrictFraming extends ChannelInboundHandlerAdapter {
  static final String NAME = "strictFraming";
  private static final String DECODER = "httpDecoder";
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final HttpServerOptions options;
  private ByteBuf held;

  StrictFraming(HttpServerOptions options) {
    this.options = requireNonNull(options, "options is null");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    held = held == null ? buf : Unpooled.wrappedBuffer(held, buf);
    int n = Math.min(held.readableBytes(), PREFACE.length);
    for (int i = 0; i < n; i++) {
      if (held.getByte(held.readerIndex() + i) != PREFACE[i]) {
        http1(ctx);
        return;
      }
    }
    if (n == PREFACE.length) {
      passOn(ctx);
    }
    // Else a prefix of the preface: wait for the byte that tells.
  }

  private void http1(ChannelHandlerContext ctx) {
    ctx.fireChannelRead(Unpooled.wrappedBuffer(new byte[] {'\r', '\n'}));
    ChannelHandler decoder = ctx.pipeline().get(DECODER);
    if (decoder instanceof VertxHttpRequestDecoder && !(decoder instanceof Decoder)) {
      ctx.pipeline().replace(DECODER, DECODER, new Decoder(options));
    }
    passOn(ctx);
  }

  private void passOn(ChannelHandlerContext ctx) {
    ByteBuf b = held;
    held = null;
    ctx.pipeline().remove(this);
    ctx.fireChannelRead(b);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (held != null) {
      held.release();
      held = null;
    }
  }

  /**
   * Vert.x's decoder, keeping {@code Content-Length} beside {@code Transfer-Encoding}, and failing
   * a request line whose version is not HTTP/1.0 or HTTP/1.1 (Vert.x would answer those with an
   * empty 501 of its own, before any handler).
   */
  static final class Decoder extends VertxHttpRequestDecoder {
    Decoder(HttpServerOptions options) {
      super(options);
    }

    @Override
    protected HttpMessage createMessage(String[] initialLine) {
      String version = initialLine[2];
      if (!version.equalsIgnoreCase("HTTP/1.1") && !version.equalsIgnoreCase("HTTP/1.0")) {
        throw new UnsupportedVersion(version);
      }
      return super.createMessage(initialLine);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      // Keep both headers: the body is still read as chunked, and the handler refuses the request.
    }
  }

  /** A request line naming an HTTP version this server does not speak. */
  static final class UnsupportedVersion extends IllegalArgumentException {
    UnsupportedVersion(String version) {
      super("unsupported HTTP version: " + version);
    }
  }
}
