package io.trellis.ingress.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BodyBudgetTest {

  @Test
  void refusesPastEitherBudgetAndGivesEverythingBack() {
    BodyBudget budget = new BodyBudget(1_000, 600);
    BodyBudget.Lease a = budget.lease("10.0.0.1");
    BodyBudget.Lease b = budget.lease("10.0.0.1");
    BodyBudget.Lease c = budget.lease("10.0.0.2");

    assertThat(a.grow(400)).isNull();
    assertThat(b.grow(201)).isEqualTo(BodyBudget.Refusal.CLIENT);
    assertThat(b.grow(200)).isNull();
    assertThat(a.grow(1)).isEqualTo(BodyBudget.Refusal.CLIENT);
    assertThat(c.grow(401)).isEqualTo(BodyBudget.Refusal.TOTAL);
    assertThat(c.grow(400)).isNull();
    assertThat(budget.held()).isEqualTo(1_000);
    assertThat(budget.clients()).isEqualTo(2);

    a.release();
    a.release();
    assertThat(a.grow(10)).as("a released lease").isEqualTo(BodyBudget.Refusal.TOTAL);
    assertThat(budget.held()).isEqualTo(600);
    b.release();
    c.release();
    assertThat(budget.held()).isZero();
    assertThat(budget.clients()).as("addresses holding nothing are forgotten").isZero();

    BodyBudget.Lease d = budget.lease("10.0.0.1");
    assertThat(d.grow(600)).as("a forgotten address starts again from 0").isNull();
    d.release();
    assertThat(budget.clients()).isZero();
  }

  @Test
  void aLeaseOfTheTotalPassesTheAddressBudgetButNotTheTotal() {
    BodyBudget budget = new BodyBudget(1_000, 300);
    BodyBudget.Lease proxy = budget.leaseOfTotal();
    BodyBudget.Lease client = budget.lease("10.0.0.1");

    assertThat(proxy.grow(800)).isNull();
    assertThat(budget.clients()).isZero();
    assertThat(client.grow(201)).isEqualTo(BodyBudget.Refusal.TOTAL);
    assertThat(client.grow(200)).isNull();
    assertThat(proxy.grow(1)).isEqualTo(BodyBudget.Refusal.TOTAL);

    proxy.release();
    assertThat(budget.held()).isEqualTo(200);
    assertThat(client.grow(101)).isEqualTo(BodyBudget.Refusal.CLIENT);
    client.release();
    assertThat(budget.held()).isZero();
    assertThat(budget.clients()).isZero();
  }

  @Test
  void aLeaseThatTookNothingLeavesNoTrace() {
    BodyBudget budget = new BodyBudget(1_000, 600);
    BodyBudget.Lease a = budget.lease("10.0.0.1");
    assertThat(a.grow(0)).isNull();
    a.release();
    assertThat(budget.clients()).isZero();
    assertThat(budget.held()).isZero();
  }

  /**
   * Threads on two addresses take and give back shares as fast as they can, each share more than
   * half of the per-address budget: no two may ever hold one address's budget at once, and at the
   * end nothing is held and no address is remembered. Counts that went back to 0 are removed while
   * other threads take from them, which is where a lost update or a share on a removed counter
   * would show.
   */
  @Test
  void concurrentLeasesNeverPassTheAddressBudget() throws Exception {
    int perClient = 1_000;
    BodyBudget budget = new BodyBudget(Long.MAX_VALUE, perClient);
    String[] addresses = {"10.0.0.1", "10.0.0.2"};
    AtomicInteger[] holders = {new AtomicInteger(), new AtomicInteger()};
    AtomicInteger granted = new AtomicInteger();
    AtomicReference<String> broken = new AtomicReference<>();
    int threads = 4;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread =
          new Thread(
              () -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                try {
                  start.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < 50_000 && broken.get() == null; i++) {
                  int a = random.nextInt(addresses.length);
                  BodyBudget.Lease lease = budget.lease(addresses[a]);
                  // Two steps, like a body buffer that grows: together more than half the budget.
                  if (lease.grow(300) != null) {
                    lease.release();
                    continue;
                  }
                  if (lease.grow(perClient / 2 + 1 - 300 + random.nextInt(100)) != null) {
                    lease.release();
                    continue;
                  }
                  if (holders[a].incrementAndGet() > 1) {
                    broken.compareAndSet(null, "two leases held " + addresses[a] + " at once");
                  }
                  granted.incrementAndGet();
                  holders[a].decrementAndGet();
                  lease.release();
                }
              });
      thread.start();
      all.add(thread);
    }
    start.countDown();
    for (Thread thread : all) {
      thread.join();
    }
    assertThat(broken.get()).isNull();
    assertThat(granted.get()).isPositive();
    assertThat(budget.held()).isZero();
    assertThat(budget.clients()).isZero();
  }
}
