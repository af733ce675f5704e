package io.trellis.ingress.http;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a request decoder that keeps both framing headers in place of Vert.x's, on every HTTP/1
 * connection. Netty's decoder drops the {@code Content-Length} of a request that also says {@code
 * Transfer-Encoding: chunked} and goes on with the connection, so the handler could not tell such a
 * request from a plain chunked one; RFC 9112 §6.3 asks the server to close the connection after
 * answering it, since a proxy in front may have framed the body by the other header and hidden a
 * request in it (request smuggling). With both headers kept, {@link CaptureHandler} refuses it.
 *
 * <p>The decoder also takes one request at a time. Netty's decodes every request in the bytes it
 * has read, and Vert.x queues those that come while an answer is pending: a client pipelining small
 * requests it never reads the answers to had about 360 bytes of heap held for every 29 bytes it
 * sent, until the heap ran out. Here, once a whole request is decoded and until its answer is
 * written, the decoder leaves the next bytes undecoded and stops reading the socket, so what a
 * client sends ahead waits in the kernel's buffers (TCP flow control), as nginx has it wait. Once a
 * request was refused and answered with the connection's closing, the decoder drops what still
 * comes without parsing it ({@link Decoder#discard}).
 *
 * <p>Vert.x adds its decoder only once the first bytes of a connection show HTTP/1 rather than the
 * HTTP/2 preface. This handler sits first in each new connection's pipeline (placed by {@link
 * LimitedNioTransport}): it holds the first bytes until they differ from the preface, lets Vert.x
 * choose HTTP/1 with a blank line (which the decoder skips), swaps the decoder while it holds no
 * bytes, passes the real bytes on and leaves. A connection that sends the preface is left alone.
 * Finds Vert.x's decoder and encoder by their classes (internal API of the Vert.x version in the
 * build): should a later version set up HTTP/1 without them, its connections are closed, with an
 * error logged once, rather than served without strict framing; RequestSmugglingIT and the
 * pipelining tests of HostileInputIT and ProcessAttackIT fail then.
 */
final class StrictFraming extends ChannelInboundHandlerAdapter {
  static final String NAME = "strictFraming";
  private static final Logger log = LoggerFactory.getLogger(StrictFraming.class);
  private static final AtomicBoolean WARNED = new AtomicBoolean();
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
    ChannelPipeline pipeline = ctx.pipeline();
    ChannelHandlerContext decoder = pipeline.context(VertxHttpRequestDecoder.class);
    ChannelHandlerContext encoder = pipeline.context(HttpResponseEncoder.class);
    if (decoder == null || encoder == null) {
      // Without the strict decoder a request could be smuggled past a proxy: no HTTP/1 here.
      if (ctx.channel().isActive() && !WARNED.getAndSet(true)) {
        log.error(
            "HTTP/1 connections are refused: Vert.x set up no request decoder and response"
                + " encoder that strict framing can take the place of (decoder {}, encoder {})",
            decoder == null ? "missing" : decoder.name(),
            encoder == null ? "missing" : encoder.name());
      }
      pipeline.remove(this);
      ctx.close();
      return;
    }
    if (!(decoder.handler() instanceof Decoder)) {
      Decoder ours = new Decoder(options);
      pipeline.replace(decoder.name(), decoder.name(), ours);
      pipeline.addAfter(encoder.name(), Answers.NAME, new Answers(ours));
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
   * Vert.x's decoder, keeping {@code Content-Length} beside {@code Transfer-Encoding}, failing a
   * request line whose version is not HTTP/1.0 or HTTP/1.1 (Vert.x would answer those with an empty
   * 501 of its own, before any handler), and decoding no request while the last one, whole, waits
   * for its answer.
   */
  static final class Decoder extends VertxHttpRequestDecoder {
    /** Requests decoded whose final answer has not been written yet. */
    private int unanswered;

    /** Whether the last request decoded has ended: its body is decoded too. */
    private boolean ended = true;

    /** Whether bytes were left undecoded, and reading stopped, until an answer is written. */
    private boolean holding;

    private ChannelHandlerContext ctx;

    /**
     * Bytes still to drop unread before the connection closes, once {@link #discard} was called.
     */
    private long discarding = -1;

    Decoder(HttpServerOptions options) {
      super(options);
    }

    /**
     * From now on, drops what the client sends without decoding it, and closes the connection once
     * more than {@code maxBytes} came or the client closed its side; then runs {@code onClose}. For
     * a connection whose request was refused and answered with its closing (a lingering close).
     * Call on the connection's event loop.
     */
    void discard(long maxBytes, Runnable onClose) {
      discarding = maxBytes;
      ctx.channel().closeFuture().addListener(f -> onClose.run());
      // Vert.x may have paused the socket for the refused request, and this decoder for the next.
      ctx.channel().config().setAutoRead(true);
      if (holding) {
        takeUpHeldBytes();
      }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws Exception {
      this.ctx = ctx;
      if (discarding >= 0) {
        discarding -= in.readableBytes();
        in.skipBytes(in.readableBytes());
        if (discarding < 0) {
          ctx.close();
        }
        return;
      }
      if (unanswered > 0 && ended) {
        holding = true;
        ctx.channel().config().setAutoRead(false);
        return;
      }
      int before = out.size();
      super.decode(ctx, in, out);
      for (int i = before; i < out.size(); i++) {
        Object m = out.get(i);
        if (m instanceof HttpRequest) {
          unanswered++;
          ended = false;
        }
        if (m instanceof LastHttpContent) {
          ended = true;
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
      if (holding || discarding >= 0) {
        // Netty's decoder would ask for more bytes, as it decoded nothing: not while holding.
        ctx.fireChannelReadComplete();
        return;
      }
      super.channelReadComplete(ctx);
    }

    /** A final answer was written: the bytes held, if any, are decoded on a task of the loop. */
    void answered() {
      if (unanswered > 0) {
        unanswered--;
      }
      if (unanswered > 0 || !holding) {
        return;
      }
      takeUpHeldBytes();
    }

    /** Reads the socket again, and decodes the bytes held on a task of the loop. */
    private void takeUpHeldBytes() {
      holding = false;
      ChannelHandlerContext c = ctx;
      c.channel().config().setAutoRead(true);
      c.executor()
          .execute(
              () -> {
                if (c.isRemoved() || holding) {
                  return;
                }
                try {
                  channelRead(c, Unpooled.EMPTY_BUFFER);
                  channelReadComplete(c);
                } catch (Exception e) {
                  c.fireExceptionCaught(e);
                }
              });
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

  /**
   * Tells the decoder when a final answer (not a {@code 100 Continue}) has been written: sits after
   * Vert.x's encoder, where the answers still are HTTP objects.
   */
  static final class Answers extends ChannelOutboundHandlerAdapter {
    static final String NAME = "answers";
    private final Decoder decoder;
    private boolean informational;

    Answers(Decoder decoder) {
      this.decoder = decoder;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpResponse r) {
        informational = r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
      }
      boolean last = msg instanceof LastHttpContent && !informational;
      ctx.write(msg, promise);
      if (last) {
        decoder.answered();
      }
    }
  }

  /** A request line naming an HTTP version this server does not speak. */
  static final class UnsupportedVersion extends IllegalArgumentException {
    UnsupportedVersion(String version) {
      super("unsupported HTTP version: " + version);
    }
  }
}
