package io.trellis.ingress.sink.clickhouse;

import static java.util.Objects.requireNonNull;

import io.trellis.ingress.event.TrafficEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts a batch into inserts that each touch at most {@code maxPartitions} partitions of the table,
 * the server's {@code max_partitions_per_insert_block} (ClickHouse refuses a bigger insert with
 * error 252, "Too many partitions for single INSERT block"). Rows are grouped by the partition the
 * server will put them in (the table's partition key, the month taken in the server's time zone),
 * groups in order of first appearance, and consecutive groups are packed into one insert up to the
 * limit. A batch within the limit is one insert, as it always was.
 *
 * <p>The plan depends only on the batch, the partitioning, the zone and the limit, so the same
 * batch is always cut the same way and each insert keeps the same deduplication token across
 * retries. Immutable.
 */
public final class InsertPlan {
  /** One insert: the batch indexes of its rows, and how many partitions they fall in. */
  public record Insert(List<Integer> rows, int partitions, String token) {
    public Insert {
      rows = List.copyOf(rows);
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
      List<TrafficEvent> events,
      ClickHouseConfig.Partitioning partitioning,
      ZoneId zone,
      int maxPartitions,
      String token) {
    requireNonNull(partitioning, "partitioning is null");
    requireNonNull(zone, "zone is null");
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < events.size(); i++) {
      groups
          .computeIfAbsent(partition(events.get(i), partitioning, zone), k -> new ArrayList<>())
          .add(i);
    }
    if (maxPartitions <= 0 || groups.size() <= maxPartitions) {
      List<Integer> all = new ArrayList<>(events.size());
      for (int i = 0; i < events.size(); i++) {
        all.add(i);
      }
      return new InsertPlan(List.of(new Insert(all, groups.size(), token)));
    }
    List<Insert> out = new ArrayList<>();
    List<Integer> rows = new ArrayList<>();
    int partitions = 0;
    for (List<Integer> group : groups.values()) {
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
  static String partition(TrafficEvent e, ClickHouseConfig.Partitioning partitioning, ZoneId zone) {
    ZonedDateTime t = Instant.ofEpochMilli(e.timestamp()).atZone(zone);
    int yyyymm = t.getYear() * 100 + t.getMonthValue();
    return switch (partitioning) {
      case ORGANIZATION_MONTH -> yyyymm + "\u0000" + e.organizationId();
      case MONTH -> Integer.toString(yyyymm);
    };
  }

  public List<Insert> inserts() {
    return inserts;
  }

  /** The insert at {@code index} cut in two halves of its partitions (it had more than one). */
  public static List<Insert> halve(
      Insert insert,
      List<TrafficEvent> events,
      ClickHouseConfig.Partitioning partitioning,
      ZoneId zone) {
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int i : insert.rows()) {
      groups
          .computeIfAbsent(partition(events.get(i), partitioning, zone), k -> new ArrayList<>())
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
