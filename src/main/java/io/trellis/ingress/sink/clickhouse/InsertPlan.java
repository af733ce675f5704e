package io.trellis.ingress.sink.clickhouse;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.SpooledEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * Cuts a batch into inserts that each touch at most {@code maxPartitions} partitions of the table,
 * the server's {@code max_partitions_per_insert_block} (ClickHouse refuses a bigger insert with
 * error 252, "Too many partitions for single INSERT block"). Rows are grouped by the partition the
 * server will put them in (the table's partition key, the month taken in the server's time zone),
 * groups in order of first appearance, and consecutive groups are packed into one insert up to the
 * limit. A batch within the limit is one insert, as it always was.
 *
 * <p>Planning reads only each event's time and organization from its spool encoding (no event is
 * decoded for it), and the usual plan, one insert of every row, holds no row index: the plan is
 * kept until the batch is stored, which can take a second or more.
 *
 * <p>The plan depends only on the batch, the partitioning, the zone and the limit, so the same
 * batch is always cut the same way and each insert keeps the same deduplication token across
 * retries. Immutable.
 */
public final class InsertPlan {
  /** One insert: the batch indexes of its rows, and how many partitions they fall in. */
  public record Insert(List<Integer> rows, int partitions, String token) {
    public Insert {
      rows = rows instanceof AllRows ? rows : List.copyOf(rows);
    }
  }

  /** The rows 0 to {@code size - 1}, without a boxed index each. */
  private static final class AllRows extends AbstractList<Integer> implements RandomAccess {
    private final int size;

    AllRows(int size) {
      this.size = size;
    }

    @Override
    public Integer get(int index) {
      return Integer.valueOf(Objects.checkIndex(index, size));
    }

    @Override
    public int size() {
      return size;
    }
  }

  private final List<Insert> inserts;

  private InsertPlan(List<Insert> inserts) {
    this.inserts = List.copyOf(inserts);
  }

  /**
   * The plan for {@code events}. {@code maxPartitions} 0 means no limit. {@code token} is the
   * batch's deduplication token: a batch cut in several inserts gives each its own, derived from it
   * and the insert's position.
   */
  public static InsertPlan of(
      List<SpooledEvent> events,
      ClickHouseConfig.Partitioning partitioning,
      ZoneId zone,
      int maxPartitions,
      String token) {
    requireNonNull(partitioning, "partitioning is null");
    requireNonNull(zone, "zone is null");
    // Each event's group first, by number: a batch is nearly always one group.
    Map<String, Integer> numbers = new LinkedHashMap<>();
    int[] groupOf = new int[events.size()];
    Months months = new Months(zone);
    String lastKey = null;
    int lastGroup = -1;
    for (int i = 0; i < events.size(); i++) {
      String key = partition(events.get(i), partitioning, months);
      if (!key.equals(lastKey)) {
        lastGroup = numbers.computeIfAbsent(key, k -> numbers.size());
        lastKey = key;
      }
      groupOf[i] = lastGroup;
    }
    if (maxPartitions <= 0 || numbers.size() <= maxPartitions) {
      return new InsertPlan(List.of(new Insert(new AllRows(events.size()), numbers.size(), token)));
    }
    List<List<Integer>> groups = new ArrayList<>(numbers.size());
    for (int g = 0; g < numbers.size(); g++) {
      groups.add(new ArrayList<>());
    }
    for (int i = 0; i < groupOf.length; i++) {
      groups.get(groupOf[i]).add(i);
    }
    List<Insert> out = new ArrayList<>();
    List<Integer> rows = new ArrayList<>();
    int partitions = 0;
    for (List<Integer> group : groups) {
      if (partitions == maxPartitions) {
        out.add(new Insert(rows, partitions, token + "-p" + out.size()));
        rows = new ArrayList<>();
        partitions = 0;
      }
      rows.addAll(group);
      partitions++;
    }
    out.add(new Insert(rows, partitions, token + "-p" + out.size()));
    return new InsertPlan(out);
  }

  /** The partition ClickHouse puts the event in, as text (equal text, same partition). */
  static String partition(
      SpooledEvent e, ClickHouseConfig.Partitioning partitioning, Months months) {
    int yyyymm = months.of(e.timestamp());
    return switch (partitioning) {
      case ORGANIZATION_MONTH -> yyyymm + "\u0000" + e.organizationId();
      case MONTH -> Integer.toString(yyyymm);
    };
  }

  /**
   * The month (yyyymm) of a time in one zone, remembering the last month's bounds: a batch's events
   * nearly all fall in one month.
   */
  static final class Months {
    private final ZoneId zone;
    private long start = 1;
    private long end = 0;
    private int yyyymm;

    Months(ZoneId zone) {
      this.zone = zone;
    }

    int of(long millis) {
      if (millis < start || millis >= end) {
        ZonedDateTime t = Instant.ofEpochMilli(millis).atZone(zone);
        ZonedDateTime first = t.toLocalDate().withDayOfMonth(1).atStartOfDay(zone);
        start = first.toInstant().toEpochMilli();
        end = first.plusMonths(1).toInstant().toEpochMilli();
        yyyymm = t.getYear() * 100 + t.getMonthValue();
      }
      return yyyymm;
    }
  }

  public List<Insert> inserts() {
    return inserts;
  }

  /** The insert at {@code index} cut in two halves of its partitions (it had more than one). */
  public static List<Insert> halve(
      Insert insert,
      List<SpooledEvent> events,
      ClickHouseConfig.Partitioning partitioning,
      ZoneId zone) {
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    Months months = new Months(zone);
    for (int i : insert.rows()) {
      groups
          .computeIfAbsent(partition(events.get(i), partitioning, months), k -> new ArrayList<>())
          .add(i);
    }
    int half = groups.size() / 2;
    List<Integer> first = new ArrayList<>();
    List<Integer> second = new ArrayList<>();
    int n = 0;
    for (List<Integer> group : groups.values()) {
      (n++ < half ? first : second).addAll(group);
    }
    return List.of(
        new Insert(first, half, insert.token() + "a"),
        new Insert(second, groups.size() - half, insert.token() + "b"));
  }
}
