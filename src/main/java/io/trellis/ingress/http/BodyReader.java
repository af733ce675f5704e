package io.trellis.ingress.http;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request body within its byte limit and its deadline. A body over the limit is answered
 * 413 at once; a body not complete by the deadline (a client sending one byte a second) is answered
 * 408; either way the connection is closed, after a bounded lingering read so the answer is not
 * lost to a reset. A client that disconnects mid-body gets nothing delivered: the body is dropped
 * before anything is captured.
 */
final class BodyReader {
  private static final Logger log = LoggerFactory.getLogger(BodyReader.class);

  private BodyReader() {}

  /**
   * Reads the body and passes it to {@code then} on the request's context.
   *
   * @param deadlines the event loop's deadlines, which answer 408 when the body is late
   * @param deadlineMillis time from now until the body must be complete
   */
  static void read(
      HttpServerRequest req,
      ConnectionDeadlines deadlines,
      long limit,
      long deadlineMillis,
      Consumer<byte[]> then) {
    Buffer acc = Buffer.buffer();
    ConnectionDeadlines.Body body =
        deadlines.bodyStarted(
            deadlineMillis,
            () ->
                refuse(
                    req,
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
          if (acc.length() + (long) chunk.length() > limit) {
            body.finished();
            refuse(
                req, HttpError.tooLarge("request body exceeds the limit of " + limit + " bytes"));
            return;
          }
          acc.appendBuffer(chunk);
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
            then.accept(acc.getBytes());
          }
        });
  }

  /**
   * Answers an error before the body was read completely, then stops taking it: HTTP/1 closes the
   * connection after a bounded lingering read (kept open, the unread rest would be taken for the
   * next request); HTTP/2 resets only the stream.
   */
  static void refuse(HttpServerRequest req, HttpError error) {
    if (req.version() == HttpVersion.HTTP_2) {
      Responses.error(req.response(), error);
      return;
    }
    Vertx vertx = Vertx.currentContext() == null ? null : Vertx.currentContext().owner();
    Responses.errorAndClose(req.response(), error).onComplete(ar -> lingerThenClose(req, vertx));
  }

  /** How long a refused request's unread body is read and dropped before the close. */
  static final long LINGER_MILLIS = 2_000;

  /** How much of a refused request's unread body is read and dropped at most. */
  static final long LINGER_MAX_BYTES = 16L << 20;

  /**
   * Closes the connection once the client has stopped sending, within bounds. Closing a socket with
   * unread input makes the kernel answer with a reset, which can destroy the error answer in the
   * client's receive buffer before it is read: a client still sending an oversized body would see
   * "connection reset" instead of the 413. So the rest of the request is read and dropped first,
   * for at most {@link #LINGER_MILLIS} and {@link #LINGER_MAX_BYTES}, as nginx's lingering close
   * does.
   */
  private static void lingerThenClose(HttpServerRequest req, Vertx vertx) {
    HttpConnection conn = req.connection();
    if (req.isEnded() || vertx == null) {
      conn.close();
      return;
    }
    long[] dropped = {0};
    long timer = vertx.setTimer(LINGER_MILLIS, id -> conn.close());
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
            if (dropped[0] > LINGER_MAX_BYTES) {
              close.run();
            }
          });
      req.endHandler(v -> close.run());
      req.exceptionHandler(e -> close.run());
    } catch (IllegalStateException e) {
      close.run(); // the request ended or its connection went away meanwhile
    }
  }
}
