package io.trellis.ingress.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * A real small disk: a tmpfs of a given size mounted on a directory, so that a test fills it for
 * real and the service sees the kernel's own "No space left on device". Mounting needs root (as CI
 * runs): without it the test is skipped locally, and fails when {@code TEST_REQUIRE_TMPFS=1}.
 */
public final class SmallDisk implements AutoCloseable {
  public static final String REQUIRE_ENV = "TEST_REQUIRE_TMPFS";

  private final Path mountPoint;

  private SmallDisk(Path mountPoint) {
    this.mountPoint = mountPoint;
  }

  /** Mounts a tmpfs of {@code size} (e.g. {@code 8m}) on {@code mountPoint}, created if needed. */
  public static SmallDisk mount(Path mountPoint, String size) throws Exception {
    Files.createDirectories(mountPoint);
    String out;
    int code;
    try {
      Process p =
          new ProcessBuilder(
                  "mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mountPoint.toString())
              .redirectErrorStream(true)
              .start();
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      code = p.waitFor();
    } catch (IOException e) {
      out = e.toString();
      code = -1;
    }
    String why = "cannot mount a tmpfs on " + mountPoint + " (needs root): " + out;
    if (code != 0) {
      if ("1".equals(System.getenv(REQUIRE_ENV))) {
        throw new AssertionError(why);
      }
      Assumptions.abort(why);
    }
    return new SmallDisk(mountPoint);
  }

  /** Writes {@code file} until the disk refuses another byte; returns how many bytes it took. */
  public static long fill(Path file) throws IOException {
    byte[] chunk = new byte[4096];
    long written = 0;
    try (OutputStream out = Files.newOutputStream(file)) {
      while (true) {
        out.write(chunk);
        out.flush();
        written += chunk.length;
      }
    } catch (IOException full) {
      if (!String.valueOf(full.getMessage()).contains("No space left")) {
        throw full;
      }
    }
    // The stream's close may have failed on the same error; what is written stays.
    return written;
  }

  @Override
  public void close() throws Exception {
    Process p =
        new ProcessBuilder("umount", "-l", mountPoint.toString()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    p.waitFor();
  }
}
