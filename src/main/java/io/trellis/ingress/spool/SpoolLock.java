package io.trellis.ingress.spool;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.config.ConfigException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The lock of a data directory: an OS file lock on {@code spool/spool.lock}, held by the running
 * service for its whole life and released by the kernel when the process dies, even by SIGKILL. The
 * service takes it before it touches anything else under the data directory (key store, sinks,
 * spool), so a second instance started on the same directory stops without changing a byte of what
 * the first one is writing. The holder writes its process id into the file, for the message a
 * second instance prints, and empties it on a clean stop, so that the next holder knows whether the
 * last one was killed ({@link #previousStopUnclean()}).
 *
 * <p>Not thread-safe: one owner, which closes it once.
 */
public final class SpoolLock implements AutoCloseable {
  public static final String FILE = "spool.lock";

  private final Path spoolDir;
  private final FileChannel channel;
  private final FileLock lock;
  private final boolean uncleanStop;

  private SpoolLock(Path spoolDir, FileChannel channel, FileLock lock, boolean uncleanStop) {
    this.spoolDir = spoolDir;
    this.channel = channel;
    this.lock = lock;
    this.uncleanStop = uncleanStop;
  }

  /**
   * Takes the lock of the spool directory {@code spoolDir} (creating the directory and the lock
   * file when missing).
   *
   * @throws ConfigException when another process (or another service in this JVM) holds it
   */
  public static SpoolLock acquire(Path spoolDir) throws IOException {
    requireNonNull(spoolDir, "spoolDir is null");
    Files.createDirectories(spoolDir);
    Path file = spoolDir.resolve(FILE);
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      String holder = holder(ch);
      ch.close();
      throw new ConfigException(inUse(spoolDir, holder));
    }
    // A clean stop empties the file (see close): a process id left in it means the last holder
    // was killed, crashed or lost power while it held the spool.
    boolean unclean = !holder(ch).isEmpty();
    try {
      // The id is a hint for the operator; a full disk must not stop the start for it.
      ch.truncate(0);
      ch.write(
          ByteBuffer.wrap(
              (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
          0);
    } catch (IOException e) {
      // The lock is what counts.
    }
    return new SpoolLock(spoolDir, ch, lock, unclean);
  }

  /** The one-line message for a data directory in use; names the holder's process id if known. */
  static String inUse(Path spoolDir, String holder) {
    Path dataDir = spoolDir.toAbsolutePath().getParent();
    return "the data directory "
        + (dataDir == null ? spoolDir : dataDir)
        + " is in use by another running trellis-ingress"
        + (holder.isEmpty() ? "" : " (process " + holder + ")")
        + ": stop it first, or give this one another data-dir";
  }

  private static String holder(FileChannel ch) {
    try {
      ByteBuffer b = ByteBuffer.allocate(32);
      ch.read(b, 0);
      String text = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
      return text.matches("[0-9]{1,19}") ? text : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Whether the previous holder stopped without closing the lock: killed, crashed, power lost. */
  public boolean previousStopUnclean() {
    return uncleanStop;
  }

  /** The spool directory this lock guards. */
  public Path directory() {
    return spoolDir;
  }

  /** Releases the lock; a second call does nothing. */
  @Override
  public void close() throws IOException {
    if (!channel.isOpen()) {
      return;
    }
    try {
      // Emptied on a clean stop only; see previousStopUnclean.
      channel.truncate(0);
      lock.release();
    } finally {
      channel.close();
    }
  }

  @Override
  public String toString() {
    return "SpoolLock{" + spoolDir.resolve(FILE) + "}";
  }
}
