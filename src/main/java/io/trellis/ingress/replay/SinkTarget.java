package io.trellis.ingress.replay;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.sink.Sink;
import io.trellis.ingress.sink.SinkException;

/** A replay target that writes through one of the service's own sinks, started when made. */
abstract class SinkTarget<S extends Sink> implements ReplayTarget {
  protected final S sink;

  SinkTarget(S sink) throws SinkException {
    this.sink = requireNonNull(sink, "sink is null");
    sink.start();
  }

  @Override
  public final String name() {
    return sink.name();
  }

  @Override
  public final void close() {
    sink.close();
  }

  @Override
  public final String toString() {
    return sink.toString();
  }
}
