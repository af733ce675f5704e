package io.trellis.ingress.event;

/**
 * How a column's value is rendered in each store. The type, not the column, decides the rendering:
 * a new column of an existing type needs no code in any sink.
 *
 * <pre>
 * type         value         files (NDJSON)        ClickHouse                      BigQuery
 * ID           text (UUID)   string                UUID                            STRING
 * TIME         epoch millis  "2026-11-27T07:27:19.818Z"  DateTime64(3)           TIMESTAMP
 * KEYWORD      short text    string                LowCardinality(String)          STRING
 * STRING       short text    string                String                          STRING
 * TEXT         long text     string                String CODEC(ZSTD(3))           STRING
 * JSON_OBJECT  JSON text     the object itself     String CODEC(ZSTD(3)), the text JSON
 * PAYLOAD      raw text      string                String CODEC(ZSTD(3))           JSON when it is one
 *                                                                                  JSON value, else
 *                                                                                  the text (string)
 * </pre>
 *
 * Older ClickHouse servers get the nearest type they have ({@code DateTime}, {@code String}, no
 * codec; see {@code ClickHouseSchema}).
 */
public enum ColumnType {
  ID,
  TIME,
  KEYWORD,
  STRING,
  TEXT,
  JSON_OBJECT,
  PAYLOAD;

  /** True for the types whose value is text (every type but {@link #TIME}). */
  public boolean isText() {
    return this != TIME;
  }
}
