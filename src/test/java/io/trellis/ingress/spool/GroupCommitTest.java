package io.trellis.ingress.spool;

import static io.trellis.ingress.spool.Events.config;
import static io.trellis.ingress.spool.Events.event;
import static io.trellis.ingress.spool.Events.events;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.trellis.ingress.event.TrafficEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a group commit closes: at the delay, or earlier once appends stop arriving. */
class GroupCommitTest {
  @TempDir Path dir;

  private DiskSpool open(SpoolConfig config, SimpleMeterRegistry metrics) throws Exception {
    return DiskSpool.open(
        dir.resolve("spool"), dir.resolve("dead-letters"), config, List.of(), metrics);
  }

  @Test
  void aLoneAppendIsAcknowledgedWhenAppendsStopArrivingNotAtTheMaximumDelay() throws Exception {
    // A 20 s delay gives a 2 s idle gap: the lone append is durable after that gap, long before
    // the 20 s are up. The bound in between leaves a loaded machine 13 s for one fsync.
    SpoolConfig c =
        config(
            Map.of(
                "spool.fsync",
                "group",
                "spool.group-commit",
                "fixed",
                "spool.fsync-max-delay",
                "20s"));
    try (DiskSpool spool = open(c, new SimpleMeterRegistry())) {
      long t0 = System.nanoTime();
      spool.append(List.of(event("lone"))).get(30, TimeUnit.SECONDS);
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(15);
    }
  }

  @Test
  void adaptiveGroupsDoNotWaitForCompanyThatIsNotComing() throws Exception {
    // Fixed, this delay would hold each lone append for its 60 s idle gap; adaptive, appends that
    // come one at a time (each after the previous one's fsync) never wait for company. Five
    // appends in well under one such gap tell the two apart however slow the fsyncs are.
    SpoolConfig c = config(Map.of("spool.fsync", "group", "spool.fsync-max-delay", "10m"));
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try (DiskSpool spool = open(c, metrics)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < 5; i++) {
        spool.append(List.of(event("alone-" + i))).get(50, TimeUnit.SECONDS);
      }
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(50);
    }
    assertThat(metrics.get("trellis.spool.fsync").timer().count()).isEqualTo(5);
  }

  @Test
  void appendsArrivingTogetherStillShareOneFsync() throws Exception {
    // A long idle gap (1 s) so that 200 appends queued back to back land in few groups. Each
    // time a loaded machine pauses the appending thread for longer than the gap, a group closes
    // early: the bound is "far fewer fsyncs than appends", not an exact count.
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    SpoolConfig c =
        config(
            Map.of(
                "spool.fsync",
                "group",
                "spool.group-commit",
                "fixed",
                "spool.fsync-max-delay",
                "10s"));
    try (DiskSpool spool = open(c, metrics)) {
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      for (var e : events("together", 200)) {
        acks.add(spool.append(List.of(e)));
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }
    long fsyncs = metrics.get("trellis.spool.fsync").timer().count();
    assertThat(fsyncs).isBetween(1L, 20L);
    assertThat(metrics.get("trellis.spool.appended.events").counter().count()).isEqualTo(200.0);
  }

  @Test
  void aGroupIsCompletedWithOneTaskPerExecutorNotOnePerAppend() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    SpoolConfig c =
        config(
            Map.of(
                "spool.fsync",
                "group",
                "spool.group-commit",
                "fixed",
                "spool.fsync-max-delay",
                "10s"));
    // Two "event loops": single threads that count the tasks handed to them.
    ExecutorService loopA = Executors.newSingleThreadExecutor(r -> new Thread(r, "loop-a"));
    ExecutorService loopB = Executors.newSingleThreadExecutor(r -> new Thread(r, "loop-b"));
    AtomicInteger tasks = new AtomicInteger();
    Executor countingA =
        t -> {
          tasks.incrementAndGet();
          loopA.execute(t);
        };
    Executor countingB =
        t -> {
          tasks.incrementAndGet();
          loopB.execute(t);
        };
    List<String> wrongThread = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(200);
    try (DiskSpool spool = open(c, metrics)) {
      List<TrafficEvent> events = events("loops", 200);
      for (int i = 0; i < events.size(); i++) {
        String loop = i % 2 == 0 ? "loop-a" : "loop-b";
        spool.append(
            List.of(events.get(i)),
            i % 2 == 0 ? countingA : countingB,
            failure -> {
              if (failure != null || !Thread.currentThread().getName().equals(loop)) {
                wrongThread.add(Thread.currentThread().getName() + " " + failure);
              }
              done.countDown();
            });
      }
      assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      loopA.shutdown();
      loopB.shutdown();
    }
    assertThat(wrongThread).isEmpty();
    // Few groups (a pause of the appending thread longer than the 1 s idle gap closes one early),
    // and at most one task per executor and group: not 200.
    long groups = metrics.get("trellis.spool.group.events").summary().count();
    assertThat(groups).isBetween(1L, 20L);
    assertThat(tasks.get()).isBetween(2, (int) (2 * groups));
  }
}
