package io.trellis.ingress.sink.bigquery;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.cloud.bigquery.storage.v1.ProtoSchema;
import com.google.cloud.bigquery.storage.v1.ProtoSchemaConverter;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.trellis.ingress.event.Column;
import io.trellis.ingress.event.ColumnType;
import io.trellis.ingress.event.EventSchema;
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@link TrafficEvent} as one row of the events table, encoded as the protocol buffer the
 * Storage Write API appends. The message is flat: one field per top-level column of the {@link
 * EventSchema}, numbered in schema order, and one JSON field per BigQuery group ({@code
 * request_data}) where its first column stands. For {@link EventSchema#EVENTS}:
 *
 * <pre>
 *   1 organization_id  string   5 event_type  string    9 medium       string
 *   2 event_id         string   6 click_id    string   10 campaign     string
 *   3 timestamp        int64    7 session_id  string   11 ingested_at  int64
 *   4 request_data     string   8 source      string
 * </pre>
 *
 * TIMESTAMP columns are microseconds since the epoch; the JSON column travels as JSON text. A text
 * column that is not {@link Column#required()} and is empty (an extracted field the request did not
 * carry) is left unset, so the column is NULL rather than an empty string.
 *
 * <p>{@code request_data} is {@code {"method","url","headers","query_params","body","ip",
 * "user_agent","referer"}}: JSON objects (headers, query parameters) as objects, the body ({@link
 * ColumnType#PAYLOAD}) as JSON when it is one JSON value (nested at most {@value #MAX_BODY_DEPTH}
 * levels, within BigQuery's JSON limits) and as the raw text otherwise. {@code "body_base64"}
 * follows {@code "body"} only when the body's bytes were not valid UTF-8 (the JSON column takes new
 * keys without a schema change). Thread-safe.
 */
public final class EventRows {
  /** Deeper JSON bodies are stored as text: BigQuery's JSON type refuses more than 500 levels. */
  static final int MAX_BODY_DEPTH = 400;

  /** The rows of {@link EventSchema#EVENTS}. */
  public static final EventRows EVENTS = new EventRows(EventSchema.EVENTS);

  private static final JsonFactory JSON = new JsonFactory();

  /** One top-level field: a column, or a group of columns held as one JSON value. */
  private record Field(String name, Column column, List<Column> group) {}

  private final List<Field> fields;
  private final Descriptor descriptor;
  private final ProtoSchema schema;

  public EventRows(EventSchema events) {
    List<Field> out = new ArrayList<>();
    for (Column c : events.columns()) {
      if (c.bigQueryGroup().isEmpty()) {
        out.add(new Field(c.name(), c, List.of()));
      } else if (out.stream().noneMatch(f -> f.name().equals(c.bigQueryGroup()))) {
        List<Column> group =
            events.columns().stream()
                .filter(g -> g.bigQueryGroup().equals(c.bigQueryGroup()))
                .toList();
        out.add(new Field(c.bigQueryGroup(), null, group));
      }
    }
    this.fields = List.copyOf(out);
    this.descriptor = buildDescriptor(fields);
    this.schema = ProtoSchemaConverter.convert(descriptor);
  }

  /** The writer schema sent with appends. */
  public ProtoSchema schema() {
    return schema;
  }

  /** The row message's descriptor, whose field names are the table's columns. */
  public Descriptor descriptor() {
    return descriptor;
  }

  /** The encoded row; {@code ingestedAt} in epoch milliseconds. */
  public ByteString encode(TrafficEvent e, long ingestedAt) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512 + e.body().length());
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      for (int i = 0; i < fields.size(); i++) {
        Field f = fields.get(i);
        Column c = f.column();
        if (c == null) {
          out.writeString(i + 1, group(f.group(), e, ingestedAt));
        } else if (!c.type().isText()) {
          if (!c.omitted(e)) {
            out.writeInt64(i + 1, Math.multiplyExact(c.millis(e, ingestedAt), 1000L));
          }
        } else {
          String value = c.text(e);
          if (c.required() || !value.isEmpty()) {
            out.writeString(i + 1, value);
          }
        }
      }
      out.flush();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    return ByteString.copyFrom(bytes.toByteArray());
  }

  /** The {@code request_data} JSON document of an event. */
  public String requestData(TrafficEvent e) {
    for (Field f : fields) {
      if (f.name().equals(EventSchema.REQUEST_DATA)) {
        return group(f.group(), e, 0);
      }
    }
    throw new IllegalStateException("the schema has no " + EventSchema.REQUEST_DATA);
  }

  /** A group's JSON document: its columns as keys, objects as objects, the payload as JSON. */
  private static String group(List<Column> columns, TrafficEvent e, long ingestedAt) {
    StringWriter w = new StringWriter(256 + e.body().length() + e.headers().length());
    try (JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartObject();
      for (Column c : columns) {
        if (c.omitted(e)) {
          continue;
        }
        g.writeFieldName(c.name());
        if (!c.type().isText()) {
          g.writeString(java.time.Instant.ofEpochMilli(c.millis(e, ingestedAt)).toString());
          continue;
        }
        String value = c.text(e);
        if (c.type() == ColumnType.JSON_OBJECT
            || (c.type() == ColumnType.PAYLOAD && isJson(value))) {
          g.writeRawValue(value);
        } else {
          g.writeString(value);
        }
      }
      g.writeEndObject();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    return w.toString();
  }

  /** True when the text is exactly one JSON value of acceptable depth (whitespace around it ok). */
  static boolean isJson(String text) {
    if (text.isBlank()) {
      return false;
    }
    try (JsonParser p = JSON.createParser(text)) {
      if (p.nextToken() == null) {
        return false;
      }
      int depth = 0;
      JsonToken t = p.currentToken();
      while (true) {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          if (++depth > MAX_BODY_DEPTH) {
            return false;
          }
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        }
        if (depth == 0) {
          break;
        }
        t = p.nextToken();
        if (t == null) {
          return false;
        }
      }
      return p.nextToken() == null;
    } catch (IOException | RuntimeException ex) {
      return false;
    }
  }

  private static Descriptor buildDescriptor(List<Field> fields) {
    DescriptorProto.Builder message = DescriptorProto.newBuilder().setName("TrellisEvent");
    for (int i = 0; i < fields.size(); i++) {
      Field f = fields.get(i);
      boolean time = f.column() != null && !f.column().type().isText();
      message.addField(
          FieldDescriptorProto.newBuilder()
              .setName(f.name())
              .setNumber(i + 1)
              .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)
              .setType(
                  time
                      ? FieldDescriptorProto.Type.TYPE_INT64
                      : FieldDescriptorProto.Type.TYPE_STRING));
    }
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("trellis_event.proto")
            .setSyntax("proto2")
            .addMessageType(message)
            .build();
    try {
      return FileDescriptor.buildFrom(file, new FileDescriptor[0]).getMessageTypes().get(0);
    } catch (DescriptorValidationException ex) {
      throw new IllegalStateException(ex);
    }
  }
}
