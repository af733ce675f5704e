package io.trellis.ingress.http;

import static java.util.Objects.requireNonNull;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.internal.SocketUtils;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.transport.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Vert.x's NIO transport, except that the listening socket refuses connections past the {@link
 * ConnectionLimiter}'s caps the moment it accepts them: a short JSON answer (429 for one address
 * over its share, 503 for the port at its total) and the socket closes. The check has to sit at
 * accept: a connection that never completes a request line never reaches Vert.x's connection
 * handler, yet holds a file descriptor. Each admitted connection also gets {@link StrictFraming}.
 */
final class LimitedNioTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(LimitedNioTransport.class);

  private final io.vertx.core.spi.transport.Transport nio = Transport.NIO.implementation();
  private final ConnectionLimiter limiter;
  private final Consumer<ConnectionLimiter.Refusal> onRefused;
  private final HttpServerOptions options;

  /**
   * @param options the capture port's options, for the request decoder {@link StrictFraming}
   *     installs on each connection
   */
  LimitedNioTransport(
      ConnectionLimiter limiter,
      Consumer<ConnectionLimiter.Refusal> onRefused,
      HttpServerOptions options) {
    this.limiter = requireNonNull(limiter, "limiter is null");
    this.onRefused = requireNonNull(onRefused, "onRefused is null");
    this.options = requireNonNull(options, "options is null");
  }

  @Override
  public String name() {
    return "nio-limited";
  }

  @Override
  public boolean available() {
    return true;
  }

  @Override
  public Throwable unavailabilityCause() {
    return null;
  }

  @Override
  public io.vertx.core.spi.transport.Transport implementation() {
    return new io.vertx.core.spi.transport.Transport() {
      @Override
      public IoHandlerFactory ioHandlerFactory() {
        return nio.ioHandlerFactory();
      }

      @Override
      public DatagramChannel datagramChannel() {
        return nio.datagramChannel();
      }

      @Override
      public DatagramChannel datagramChannel(InternetProtocolFamily family) {
        return nio.datagramChannel(family);
      }

      @Override
      public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
        return nio.channelFactory(domainSocket);
      }

      @Override
      public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
        if (domainSocket) {
          return nio.serverChannelFactory(true);
        }
        return LimitedServerChannel::new;
      }
    };
  }

  private static final byte[] TOO_MANY_FROM_CLIENT =
      answer(
          429, "Too Many Requests", "rate_limited", "too many open connections from this address");
  private static final byte[] TOO_MANY =
      answer(
          503,
          "Service Unavailable",
          "unavailable",
          "the capture port has too many open connections");

  private static byte[] answer(int status, String reason, String code, String message) {
    String body =
        "{\"status\":\"error\",\"error\":\"" + code + "\",\"message\":\"" + message + "\"}";
    return ("HTTP/1.1 "
            + status
            + " "
            + reason
            + "\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
            + "Content-Length: "
            + body.length()
            + "\r\n\r\n"
            + body)
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** A listening socket whose accept consults the limiter. */
  private final class LimitedServerChannel extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      SocketChannel socket = SocketUtils.accept(javaChannel());
      if (socket == null) {
        return 0;
      }
      InetAddress address = null;
      try {
        if (socket.getRemoteAddress() instanceof InetSocketAddress remote) {
          address = remote.getAddress();
        }
      } catch (Exception e) {
        // Gone already: counted under no address, released when Netty closes it.
      }
      ConnectionLimiter.Refusal refusal = limiter.admit(address);
      if (refusal != null) {
        refuse(socket, refusal);
        return 1; // go on accepting: the backlog may hold legitimate clients
      }
      InetAddress admitted = address;
      try {
        NioSocketChannel child = new NioSocketChannel(this, socket);
        child.closeFuture().addListener(f -> limiter.release(admitted));
        // First in the pipeline, ahead of what Vert.x adds once the connection is registered.
        child.pipeline().addLast(StrictFraming.NAME, new StrictFraming(options));
        buf.add(child);
        return 1;
      } catch (Throwable t) {
        limiter.release(admitted);
        socket.close();
        log.warn("Failed to set up an accepted connection: {}", t.toString());
        return 0;
      }
    }

    /** Writes the answer into the fresh socket's empty send buffer and closes it. */
    private void refuse(SocketChannel socket, ConnectionLimiter.Refusal refusal) {
      onRefused.accept(refusal);
      try (socket) {
        socket.configureBlocking(false);
        socket.write(
            ByteBuffer.wrap(
                refusal == ConnectionLimiter.Refusal.CLIENT ? TOO_MANY_FROM_CLIENT : TOO_MANY));
      } catch (Exception e) {
        log.debug("Closing a refused connection failed: {}", e.toString());
      }
    }
  }
}
