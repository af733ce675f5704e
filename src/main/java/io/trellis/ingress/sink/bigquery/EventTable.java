package io.trellis.ingress.sink.bigquery;

import com.google.cloud.bigquery.Clustering;
import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldList;
import com.google.cloud.bigquery.LegacySQLTypeName;
import com.google.cloud.bigquery.Schema;
import com.google.cloud.bigquery.StandardSQLTypeName;
import com.google.cloud.bigquery.StandardTableDefinition;
import com.google.cloud.bigquery.TableDefinition;
import com.google.cloud.bigquery.TimePartitioning;
import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.ColumnType;
import io.trellis.ingress.event.EventSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The events table, from the {@link EventSchema}: one column per top-level column (TIMESTAMP for
 * times, JSON for a {@link ColumnType#JSON_OBJECT}, STRING for the rest; REQUIRED when the column
 * is {@link Column#required()}, the write time defaulting to {@code CURRENT_TIMESTAMP()}), one JSON
 * column per group ({@code request_data}). For {@link EventSchema#EVENTS}, as the seed defines it:
 *
 * <pre>
 * organization_id STRING NOT NULL, event_id STRING NOT NULL, timestamp TIMESTAMP NOT NULL,
 * request_data JSON, event_type STRING, click_id STRING, session_id STRING,
 * source STRING, medium STRING, campaign STRING,
 * ingested_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP()
 * PARTITION BY DATE(timestamp) CLUSTER BY organization_id, event_type
 * </pre>
 *
 * and the check that an existing table can take the rows {@link EventRows} writes.
 */
public final class EventTable {
  private EventTable() {}

  public static Schema schema() {
    return schema(EventSchema.EVENTS);
  }

  public static Schema schema(EventSchema events) {
    List<Field> out = new ArrayList<>();
    List<String> groups = new ArrayList<>();
    for (Column c : events.columns()) {
      if (!c.bigQueryGroup().isEmpty()) {
        if (!groups.contains(c.bigQueryGroup())) {
          groups.add(c.bigQueryGroup());
          out.add(nullable(c.bigQueryGroup(), StandardSQLTypeName.JSON));
        }
        continue;
      }
      StandardSQLTypeName type =
          switch (c.type()) {
            case TIME -> StandardSQLTypeName.TIMESTAMP;
            case JSON_OBJECT -> StandardSQLTypeName.JSON;
            default -> StandardSQLTypeName.STRING;
          };
      if (c.writeTime()) {
        out.add(
            Field.newBuilder(c.name(), type)
                .setMode(Field.Mode.NULLABLE)
                .setDefaultValueExpression("CURRENT_TIMESTAMP()")
                .build());
      } else if (c.required()) {
        out.add(required(c.name(), type));
      } else {
        out.add(nullable(c.name(), type));
      }
    }
    return Schema.of(out);
  }

  public static StandardTableDefinition definition() {
    return definition(EventSchema.EVENTS);
  }

  public static StandardTableDefinition definition(EventSchema events) {
    return StandardTableDefinition.newBuilder()
        .setSchema(schema(events))
        .setTimePartitioning(
            TimePartitioning.newBuilder(TimePartitioning.Type.DAY).setField("timestamp").build())
        .setClustering(
            Clustering.newBuilder().setFields(List.of("organization_id", "event_type")).build())
        .build();
  }

  /**
   * What keeps an existing table from taking our rows, one readable line per problem; empty when it
   * can. A column may be NULLABLE where the seed says NOT NULL (we always fill it), and extra
   * NULLABLE columns are fine; a missing column, another type, a REPEATED column or an extra
   * REQUIRED column without a default are not.
   */
  public static List<String> incompatibilities(TableDefinition existing) {
    return incompatibilities(existing, EventSchema.EVENTS);
  }

  /** As {@link #incompatibilities(TableDefinition)}, for the table of {@code events}. */
  public static List<String> incompatibilities(TableDefinition existing, EventSchema events) {
    Schema expected = schema(events);
    List<String> problems = new ArrayList<>();
    Schema schema = existing == null ? null : existing.getSchema();
    if (schema == null) {
      problems.add("the table has no schema (is it a table?)");
      return problems;
    }
    FieldList actual = schema.getFields();
    for (Field want : expected.getFields()) {
      Field have = find(actual, want.getName());
      if (have == null) {
        problems.add("missing column " + want.getName() + " " + want.getType());
      } else if (!sameType(have.getType(), want.getType())) {
        problems.add(
            "column " + want.getName() + " is " + have.getType() + ", expected " + want.getType());
      } else if (have.getMode() == Field.Mode.REPEATED) {
        problems.add("column " + want.getName() + " is REPEATED, expected a single value");
      }
    }
    for (Field have : actual) {
      if (find(expected.getFields(), have.getName()) == null
          && have.getMode() == Field.Mode.REQUIRED
          && have.getDefaultValueExpression() == null) {
        problems.add("extra column " + have.getName() + " is REQUIRED and has no default");
      }
    }
    return problems;
  }

  /**
   * The schema of an existing table with the NULLABLE columns of {@code events} it lacks appended
   * (what {@code tables.patch} may add to a table without rewriting it), or null when it lacks
   * none. A missing column that must be REQUIRED is left to {@link #incompatibilities}.
   */
  public static Schema withMissingColumns(TableDefinition existing, EventSchema events) {
    Schema schema = existing == null ? null : existing.getSchema();
    if (schema == null) {
      return null;
    }
    List<Field> fields = new ArrayList<>(schema.getFields());
    boolean added = false;
    for (Field want : schema(events).getFields()) {
      if (find(schema.getFields(), want.getName()) == null
          && want.getMode() != Field.Mode.REQUIRED) {
        fields.add(want);
        added = true;
      }
    }
    return added ? Schema.of(fields) : null;
  }

  private static boolean sameType(LegacySQLTypeName have, LegacySQLTypeName want) {
    return have != null && have.getStandardType() == want.getStandardType();
  }

  private static Field find(FieldList fields, String name) {
    for (Field f : fields) {
      if (f.getName().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    return null;
  }

  private static Field required(String name, StandardSQLTypeName type) {
    return Field.newBuilder(name, type).setMode(Field.Mode.REQUIRED).build();
  }

  private static Field nullable(String name, StandardSQLTypeName type) {
    return Field.newBuilder(name, type).setMode(Field.Mode.NULLABLE).build();
  }
}
