package io.trellis.ingress.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request body within its byte limit and its deadline. A body over the limit is answered
 * 413 at once; a body not complete by the deadline (a client sending one byte a second) is answered
 * 408; either way the connection is closed so the rest is never read. A client that disconnects
 * mid-body gets nothing delivered: the body is dropped before anything is captured.
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
   * Answers an error before the body was read completely, then stops reading it: HTTP/1 closes the
   * connection (the unread rest would be taken for the next request); HTTP/2 resets only the
   * stream.
   */
  static void refuse(HttpServerRequest req, HttpError error) {
    if (req.version() == HttpVersion.HTTP_2) {
      Responses.error(req.response(), error);
      return;
    }
    Responses.errorAndClose(req.response(), error).onComplete(ar -> req.connection().close());
  }
}
