package io.trellis.ingress.http;

import io.trellis.ingress.spool.Spool;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import java.util.List;
import java.util.function.Consumer;

/**
 * How the capture port appends to the spool from an event loop: the outcome runs on the request's
 * event loop, in its context, and the spool completes the requests of one group and one event loop
 * with one task on that loop. Public for the bench's floor of a durable answer, which must hand its
 * requests back exactly as the capture port does.
 */
public final class LoopAppends {
  private LoopAppends() {}

  /**
   * Appends {@code records}; then {@code onOk}, or {@code onErr} with the failure, on {@code ctx}.
   */
  public static void append(
      Spool spool, List<byte[]> records, Context ctx, Runnable onOk, Consumer<Throwable> onErr) {
    ContextInternal context = (ContextInternal) ctx;
    spool.appendRecords(
        records,
        context.nettyEventLoop(),
        failure ->
            context.emit(
                failure,
                f -> {
                  if (f == null) {
                    onOk.run();
                  } else {
                    onErr.accept(f);
                  }
                }));
  }
}
