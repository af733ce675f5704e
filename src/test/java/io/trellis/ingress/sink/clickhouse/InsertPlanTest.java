package io.trellis.ingress.sink.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.ingress.event.EventCodec;
import io.trellis.ingress.event.SpooledEvent;
import io.trellis.ingress.event.TrafficEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InsertPlanTest {
  private static final ZoneId UTC = ZoneId.of("UTC");

  /** 2026-11-15T00:00:00Z and the 15th of the months before and after. */
  private static final long NOV = Instant.parse("2026-11-15T00:00:00Z").toEpochMilli();

  private static final long OCT = Instant.parse("2026-10-15T00:00:00Z").toEpochMilli();
  private static final long DEC = Instant.parse("2026-12-15T00:00:00Z").toEpochMilli();

  @Test
  void aBatchWithinTheLimitIsOneInsertOfEveryRowInOrder() {
    List<SpooledEvent> batch = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      batch.add(stored(i, i % 3 == 0 ? "org-a" : "org-b", i % 2 == 0 ? NOV : OCT));
    }
    InsertPlan plan =
        InsertPlan.of(batch, ClickHouseConfig.Partitioning.ORGANIZATION_MONTH, UTC, 4, "t");
    assertThat(plan.inserts()).hasSize(1);
    InsertPlan.Insert only = plan.inserts().get(0);
    assertThat(only.partitions()).isEqualTo(4);
    assertThat(only.token()).isEqualTo("t");
    assertThat(only.rows()).hasSize(300);
    for (int i = 0; i < 300; i++) {
      assertThat(only.rows().get(i)).isEqualTo(i);
    }
    assertThat(only.rows()).isEqualTo(range(300));
  }

  @Test
  void aBatchOverTheLimitIsCutByPartitionInOrderOfFirstAppearance() {
    // Partitions in order of first appearance: (a, Nov), (b, Nov), (a, Oct), (b, Dec), (c, Nov).
    String[] orgs = {"org-a", "org-b", "org-a", "org-b", "org-c"};
    long[] times = {NOV, NOV, OCT, DEC, NOV};
    List<SpooledEvent> batch = new ArrayList<>();
    List<List<Integer>> expected = new ArrayList<>();
    for (int p = 0; p < 5; p++) {
      expected.add(new ArrayList<>());
    }
    Random random = new Random(7);
    for (int i = 0; i < 200; i++) {
      int p = i < 5 ? i : random.nextInt(5);
      batch.add(stored(i, orgs[p], times[p] + random.nextInt(86_400_000)));
      expected.get(p).add(i);
    }
    InsertPlan plan =
        InsertPlan.of(batch, ClickHouseConfig.Partitioning.ORGANIZATION_MONTH, UTC, 2, "t");

    assertThat(plan.inserts()).extracting(InsertPlan.Insert::partitions).containsExactly(2, 2, 1);
    assertThat(plan.inserts())
        .extracting(InsertPlan.Insert::token)
        .containsExactly("t-p0", "t-p1", "t-p2");
    assertThat(plan.inserts().get(0).rows()).isEqualTo(concat(expected.get(0), expected.get(1)));
    assertThat(plan.inserts().get(1).rows()).isEqualTo(concat(expected.get(2), expected.get(3)));
    assertThat(plan.inserts().get(2).rows()).isEqualTo(expected.get(4));

    // By month alone the same batch has three partitions: Nov, Oct, Dec.
    InsertPlan byMonth = InsertPlan.of(batch, ClickHouseConfig.Partitioning.MONTH, UTC, 2, "t");
    assertThat(byMonth.inserts()).extracting(InsertPlan.Insert::partitions).containsExactly(2, 1);
    Set<Integer> rows = new HashSet<>();
    byMonth.inserts().forEach(insert -> rows.addAll(insert.rows()));
    assertThat(rows).hasSize(200);
  }

  @Test
  void halvingAnInsertSplitsItsPartitionsAndKeepsEveryRowOnce() {
    List<SpooledEvent> batch = new ArrayList<>();
    String[] orgs = {"org-a", "org-b", "org-c", "org-d"};
    for (int i = 0; i < 40; i++) {
      batch.add(stored(i, orgs[i % 4], NOV));
    }
    InsertPlan.Insert all =
        InsertPlan.of(batch, ClickHouseConfig.Partitioning.ORGANIZATION_MONTH, UTC, 0, "t")
            .inserts()
            .get(0);
    assertThat(all.partitions()).isEqualTo(4);
    List<InsertPlan.Insert> halves =
        InsertPlan.halve(all, batch, ClickHouseConfig.Partitioning.ORGANIZATION_MONTH, UTC);
    assertThat(halves).extracting(InsertPlan.Insert::partitions).containsExactly(2, 2);
    assertThat(halves).extracting(InsertPlan.Insert::token).containsExactly("ta", "tb");
    Set<Integer> rows = new LinkedHashSet<>();
    halves.forEach(h -> rows.addAll(h.rows()));
    assertThat(rows).hasSize(40);
    for (int i : halves.get(0).rows()) {
      assertThat(i % 4).isIn(0, 1);
    }
  }

  @Test
  void theMonthOfATimeIsTheCalendarMonthInTheServersZoneAcrossBoundaries() {
    Random random = new Random(11);
    for (String id :
        List.of("UTC", "Europe/Berlin", "America/Sao_Paulo", "Pacific/Apia", "Asia/Kolkata")) {
      ZoneId zone = ZoneId.of(id);
      InsertPlan.Months months = new InsertPlan.Months(zone);
      long t = Instant.parse("2011-01-01T00:00:00Z").toEpochMilli();
      for (int i = 0; i < 20_000; i++) {
        // Mostly small steps, so the remembered month is used, and now and then a jump.
        t += random.nextInt(10) == 0 ? random.nextLong(-3_000_000_000L, 3_000_000_000L) : 60_000L;
        ZonedDateTime z = Instant.ofEpochMilli(t).atZone(zone);
        assertThat(months.of(t))
            .as("%s in %s", z, id)
            .isEqualTo(z.getYear() * 100 + z.getMonthValue());
      }
      // The last millisecond of a month and the first of the next.
      ZonedDateTime first = ZonedDateTime.of(2026, 3, 1, 0, 0, 0, 0, zone);
      long start = first.toInstant().toEpochMilli();
      assertThat(months.of(start - 1)).isEqualTo(202602);
      assertThat(months.of(start)).isEqualTo(202603);
      assertThat(months.of(start - 1)).isEqualTo(202602);
    }
  }

  private static SpooledEvent stored(long offset, String org, long timestamp) {
    TrafficEvent e =
        new TrafficEvent(
            org,
            "id-" + offset,
            timestamp,
            "POST",
            "/events",
            "{}",
            "{}",
            "{}",
            "127.0.0.1",
            "",
            "",
            "e",
            "",
            "",
            "",
            "",
            "");
    return SpooledEvent.encoded(offset, EventCodec.encode(e));
  }

  private static List<Integer> range(int n) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(i);
    }
    return out;
  }

  private static List<Integer> concat(List<Integer> a, List<Integer> b) {
    List<Integer> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
