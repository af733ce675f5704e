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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The events table, as the seed defines it:
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
    return Schema.of(
        required("organization_id", StandardSQLTypeName.STRING),
        required("event_id", StandardSQLTypeName.STRING),
        required("timestamp", StandardSQLTypeName.TIMESTAMP),
        nullable("request_data", StandardSQLTypeName.JSON),
        nullable("event_type", StandardSQLTypeName.STRING),
        nullable("click_id", StandardSQLTypeName.STRING),
        nullable("session_id", StandardSQLTypeName.STRING),
        nullable("source", StandardSQLTypeName.STRING),
        nullable("medium", StandardSQLTypeName.STRING),
        nullable("campaign", StandardSQLTypeName.STRING),
        Field.newBuilder("ingested_at", StandardSQLTypeName.TIMESTAMP)
            .setMode(Field.Mode.NULLABLE)
            .setDefaultValueExpression("CURRENT_TIMESTAMP()")
            .build());
  }

  public static StandardTableDefinition definition() {
    return StandardTableDefinition.newBuilder()
        .setSchema(schema())
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
    List<String> problems = new ArrayList<>();
    Schema schema = existing == null ? null : existing.getSchema();
    if (schema == null) {
      problems.add("the table has no schema (is it a table?)");
      return problems;
    }
    FieldList actual = schema.getFields();
    for (Field want : schema().getFields()) {
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
      if (find(schema().getFields(), have.getName()) == null
          && have.getMode() == Field.Mode.REQUIRED
          && have.getDefaultValueExpression() == null) {
        problems.add("extra column " + have.getName() + " is REQUIRED and has no default");
      }
    }
    return problems;
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
