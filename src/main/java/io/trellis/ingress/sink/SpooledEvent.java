package io.trellis.ingress.sink;

import io.trellis.ingress.capture.TrafficEvent;

/** An event read back from the spool, with its position there (unique and increasing). */
public record SpooledEvent(long offset, TrafficEvent event) {}
