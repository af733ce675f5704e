package io.trellis.ingress.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request body within its byte limit, its deadline and the memory budget of bodies. A body
 * over the limit is answered 413 at once; a body not complete by the deadline (a client sending one
 * byte a second) is answered 408; a body that would pass the memory budget is answered 503 (all
 * bodies) or 429 (this client's bodies); a body in too many tiny pieces is answered 400. Each
 * refusal closes the connection after a bounded lingering read, so the answer is not lost to a
 * reset; on HTTP/1 the connection's decoder drops those bytes unparsed. A client that disconnects
 * mid-body gets nothing delivered: the body is dropped before anything is captured.
 *
 * <p>The body is gathered in one array that grows by doubling, up to the declared Content-Length:
 * memory follows what arrived, not what was announced, and the budget counts the array itself.
 */
final class BodyReader {
  private static final Logger log = LoggerFactory.getLogger(BodyReader.class);
  private static final byte[] EMPTY = new byte[0];
  private static final int FIRST_CAPACITY = 8192;

  /**
   * A body may come in this many pieces (HTTP/1 chunks or reads, HTTP/2 DATA frames) whatever their
   * size; past them, its pieces must average {@link #MIN_PIECE_BYTES}.
   */
  static final int FREE_PIECES = 256;

  /**
   * The least average size of a body's pieces past {@link #FREE_PIECES}. Each piece costs the event
   * loop 0.4 µs or more whatever its size (Netty parses it, Vert.x copies it and calls a handler):
   * parsed, one connection streaming one-byte chunks keeps a core busy for as long as it sends.
   */
  static final int MIN_PIECE_BYTES = 32;

  private final long lingerMillis;
  private final long lingerMaxBytes;

  /**
   * @param lingerTime how long a refused request's unread body is read and dropped at most
   * @param lingerMaxBytes how much of a refused request's unread body is read and dropped at most
   */
  BodyReader(Duration lingerTime, long lingerMaxBytes) {
    this.lingerMillis = Math.max(1, lingerTime.toMillis());
    this.lingerMaxBytes = lingerMaxBytes;
  }

  /**
   * Reads the body and passes it to {@code then} on the request's context.
   *
   * @param deadlines the event loop's deadlines, which answer 408 when the body is late
   * @param deadlineMillis time from now until the body must be complete
   * @param lease the body's share of the memory budget, released by the caller when the request is
   *     answered
   */
  void read(
      HttpServerRequest req,
      ConnectionDeadlines deadlines,
      long limit,
      long deadlineMillis,
      BodyBudget.Lease lease,
      Consumer<byte[]> then) {
    long declared = declaredLength(req);
    byte[][] buf = {EMPTY};
    int[] len = {0};
    long[] pieces = {0};
    ConnectionDeadlines.Body body =
        deadlines.bodyStarted(
            deadlineMillis,
            () ->
                refuse(
                    req,
                    deadlines,
                    new HttpError(
                        408,
                        "request_timeout",
                        "the request body did not arrive within "
                            + deadlineMillis
                            + " ms; send it at once")));
    req.handler(
        chunk -> {
          if (body.isFinished()) {
            return;
          }
          int n = chunk.length();
          long need = (long) len[0] + n;
          if (++pieces[0] > FREE_PIECES && need < pieces[0] * MIN_PIECE_BYTES) {
            body.finished();
            refuse(req, deadlines, tooManyPieces());
            return;
          }
          if (need > limit) {
            body.finished();
            refuse(
                req,
                deadlines,
                HttpError.tooLarge("request body exceeds the limit of " + limit + " bytes"));
            return;
          }
          if (need > buf[0].length) {
            long grown = Math.min(limit, Math.max(FIRST_CAPACITY, 2L * buf[0].length));
            if (declared >= 0) {
              grown = Math.min(grown, declared);
            }
            int capacity = (int) Math.max(need, grown);
            BodyBudget.Refusal refusal = lease.grow(capacity - buf[0].length);
            if (refusal != null) {
              body.finished();
              lease.release();
              refuse(req, deadlines, overBudget(refusal));
              return;
            }
            buf[0] = Arrays.copyOf(buf[0], capacity);
          }
          chunk.getBytes(0, n, buf[0], len[0]);
          len[0] += n;
        });
    req.exceptionHandler(
        e -> {
          if (body.finished()) {
            log.debug("Request body failed, nothing captured: {}", e.toString());
          }
        });
    req.endHandler(
        v -> {
          if (body.finished()) {
            byte[] b = buf[0];
            then.accept(len[0] == b.length ? b : Arrays.copyOf(b, len[0]));
          }
        });
  }

  static HttpError tooManyPieces() {
    return new HttpError(
        400,
        "chunks_too_small",
        "the request body comes in more than "
            + FREE_PIECES
            + " pieces averaging under "
            + MIN_PIECE_BYTES
            + " bytes; send it in larger chunks");
  }

  static HttpError overBudget(BodyBudget.Refusal refusal) {
    return refusal == BodyBudget.Refusal.CLIENT
        ? HttpError.rateLimited(
            "this address has too many request bodies in flight; retry when they are answered", 1)
        : HttpError.unavailable(
            "the service holds as many request bodies as it can; retry in a moment", 1);
  }

  /** The Content-Length, or -1 when there is none or it is not a number. */
  private static long declaredLength(HttpServerRequest req) {
    String v = req.getHeader("content-length");
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Answers an error before the body was read completely, then stops taking it: HTTP/1 closes the
   * connection after a bounded lingering read (kept open, the unread rest would be taken for the
   * next request); HTTP/2 resets only the stream.
   */
  void refuse(HttpServerRequest req, ConnectionDeadlines deadlines, HttpError error) {
    if (req.version() == HttpVersion.HTTP_2) {
      Responses.error(req.response(), error);
      return;
    }
    deadlines.markClosing(req.connection());
    Vertx vertx = Vertx.currentContext() == null ? null : Vertx.currentContext().owner();
    Responses.errorAndClose(req.response(), error).onComplete(ar -> lingerThenClose(req, vertx));
  }

  /**
   * Closes the connection once the client has stopped sending, within bounds. Closing a socket with
   * unread input makes the kernel answer with a reset, which can destroy the error answer in the
   * client's receive buffer before it is read: a client that writes its whole body before reading
   * (Python's http.client and requests do) would see "connection reset" or a broken pipe instead of
   * the 413. So the rest of the request is read and dropped first, for at most the linger time and
   * bytes, as nginx's lingering close does. The bytes bound must exceed what such a client sends
   * after the answer, which is the whole body: the bound is far above the body limits.
   */
  private void lingerThenClose(HttpServerRequest req, Vertx vertx) {
    HttpConnection conn = req.connection();
    if (req.isEnded() || vertx == null) {
      conn.close();
      return;
    }
    long timer = vertx.setTimer(lingerMillis, id -> conn.close());
    StrictFraming.Decoder decoder =
        conn instanceof ConnectionBase c
            ? c.channel().pipeline().get(StrictFraming.Decoder.class)
            : null;
    if (decoder != null) {
      // The rest is dropped as it is read, not parsed: a chunked body of tiny chunks would cost
      // the loop as much as before its refusal.
      decoder.discard(lingerMaxBytes, () -> vertx.cancelTimer(timer));
      return;
    }
    long[] dropped = {0};
    // Closing twice is harmless, as is cancelling a timer that already fired.
    Runnable close =
        () -> {
          vertx.cancelTimer(timer);
          conn.close();
        };
    try {
      req.handler(
          chunk -> {
            dropped[0] += chunk.length();
            if (dropped[0] > lingerMaxBytes) {
              close.run();
            }
          });
      req.endHandler(v -> close.run());
      req.exceptionHandler(e -> close.run());
      req.resume(); // a request refused before its body was wanted may be paused
    } catch (IllegalStateException e) {
      close.run(); // the request ended or its connection went away meanwhile
    }
  }
}
