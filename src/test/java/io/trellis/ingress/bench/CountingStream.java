package io.trellis.ingress.bench;

import java.io.OutputStream;

/** Counts the bytes written to it and keeps none: encoders are measured without I/O. */
final class CountingStream extends OutputStream {
  long count;

  @Override
  public void write(int b) {
    count++;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    count += len;
  }
}
