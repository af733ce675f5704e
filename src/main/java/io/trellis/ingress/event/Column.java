package io.trellis.ingress.event;

import static java.util.Objects.requireNonNull;

import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * One stored column of the event: its name (the file key, the ClickHouse column and the BigQuery
 * field), its {@link ColumnType}, where its value comes from, and the few facts that change how a
 * store writes it. Build one with {@link #text}, {@link #time} or {@link #ingestedAt} and the
 * {@code with...} methods. Immutable.
 *
 * @param name the column name in every store
 * @param type how the value is rendered
 * @param text the value of a text column (null for a time column)
 * @param field the tag of the spool record's field ({@link EventCodec.Field}) that holds the value
 *     as it is, which a store may then read from the record's bytes; 0 for any other column
 * @param millis the value of a time column, epoch milliseconds (null for text and {@link
 *     #ingestedAt()})
 * @param writeTime the time the sink stores the event, not a value of the event: ClickHouse leaves
 *     it to the column default {@code now64(3)} unless the sink must send it, BigQuery's column
 *     defaults to {@code CURRENT_TIMESTAMP()}
 * @param required never empty: BigQuery's column is {@code REQUIRED}; the other text columns there
 *     are NULL when empty
 * @param omitWhenEmpty an empty value is not written at all (no file key, ClickHouse's column
 *     default, no key in BigQuery's group)
 * @param bigQueryGroup the BigQuery JSON column this value is a key of, or empty for a column of
 *     its own
 * @param description what the column holds, for the README
 */
public record Column(
    String name,
    ColumnType type,
    Function<TrafficEvent, String> text,
    int field,
    ToLongFunction<TrafficEvent> millis,
    boolean writeTime,
    boolean required,
    boolean omitWhenEmpty,
    String bigQueryGroup,
    String description) {

  public Column {
    requireNonNull(name, "name is null");
    requireNonNull(type, "type is null");
    requireNonNull(bigQueryGroup, "bigQueryGroup is null");
    requireNonNull(description, "description is null");
    if (!name.matches("[a-z][a-z0-9_]*")) {
      throw new IllegalArgumentException("column name " + name + " is not lower_snake_case");
    }
    if (type.isText() != (text != null)
        || (type == ColumnType.TIME) != (millis != null || writeTime)) {
      throw new IllegalArgumentException("column " + name + ": the value does not fit " + type);
    }
    if (field != 0 && (text == null || field < 1 || field > EventCodec.Field.LAST)) {
      throw new IllegalArgumentException("column " + name + ": no string field of tag " + field);
    }
  }

  /** A text column read from the event. */
  public static Column text(
      String name, ColumnType type, Function<TrafficEvent, String> value, String description) {
    return new Column(name, type, value, 0, null, false, false, false, "", description);
  }

  /** A text column that is one of the event's own fields, by its tag in the spool's records. */
  public static Column field(String name, ColumnType type, int field, String description) {
    return new Column(
        name,
        type,
        e -> EventCodec.text(e, field),
        field,
        null,
        false,
        false,
        false,
        "",
        description);
  }

  /** A time column read from the event (epoch milliseconds). */
  public static Column time(String name, ToLongFunction<TrafficEvent> value, String description) {
    return new Column(name, ColumnType.TIME, null, 0, value, false, true, false, "", description);
  }

  /**
   * A time column that may be absent ({@link Enrichment#NO_TIME}): no file key, the ClickHouse
   * column's default, NULL in BigQuery.
   */
  public static Column optionalTime(
      String name, ToLongFunction<TrafficEvent> value, String description) {
    return new Column(name, ColumnType.TIME, null, 0, value, false, false, true, "", description);
  }

  /** The time the sink stores the event. */
  public static Column ingestedAt(String name, String description) {
    return new Column(name, ColumnType.TIME, null, 0, null, true, false, false, "", description);
  }

  public Column withRequired() {
    return new Column(
        name,
        type,
        text,
        field,
        millis,
        writeTime,
        true,
        omitWhenEmpty,
        bigQueryGroup,
        description);
  }

  public Column withOmitWhenEmpty() {
    return new Column(
        name, type, text, field, millis, writeTime, required, true, bigQueryGroup, description);
  }

  public Column inBigQueryGroup(String group) {
    return new Column(
        name, type, text, field, millis, writeTime, required, omitWhenEmpty, group, description);
  }

  /** The text value of the event (text columns only). */
  public String text(TrafficEvent e) {
    return text.apply(e);
  }

  /** The time value, epoch milliseconds: the event's, or {@code ingestedAt} for the write time. */
  public long millis(TrafficEvent e, long ingestedAt) {
    return writeTime ? ingestedAt : millis.applyAsLong(e);
  }

  /** True when the event has nothing to write for this column and it is left out. */
  public boolean omitted(TrafficEvent e) {
    if (!omitWhenEmpty) {
      return false;
    }
    return type == ColumnType.TIME
        ? millis.applyAsLong(e) == Enrichment.NO_TIME
        : text.apply(e).isEmpty();
  }

  @Override
  public String toString() {
    return name + " " + type;
  }
}
