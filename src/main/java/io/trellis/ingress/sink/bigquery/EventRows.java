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
import io.trellis.ingress.event.TrafficEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * One {@link TrafficEvent} as one row of the events table, encoded as the protocol buffer the
 * Storage Write API appends. The message is flat and its field names are the column names:
 *
 * <pre>
 *   1 organization_id  string   5 event_type  string    9 medium       string
 *   2 event_id         string   6 click_id    string   10 campaign     string
 *   3 timestamp        int64    7 session_id  string   11 ingested_at  int64
 *   4 request_data     string   8 source      string
 * </pre>
 *
 * TIMESTAMP columns are microseconds since the epoch; the JSON column travels as JSON text. An
 * extracted field the request did not carry (event type, click id, session, UTM) is left unset, so
 * the column is NULL rather than an empty string.
 *
 * <p>{@code request_data} is {@code {"method","url","headers","query_params","body","ip",
 * "user_agent","referer"}}: headers and query parameters as objects, the body as JSON when it is
 * one JSON value (nested at most {@value #MAX_BODY_DEPTH} levels, within BigQuery's JSON limits)
 * and as the raw text otherwise. When the body's bytes were not valid UTF-8, {@code "body_base64"}
 * follows {@code "body"} with the exact bytes (the JSON column takes new fields without a schema
 * change). Thread-safe.
 */
public final class EventRows {
  /** Deeper JSON bodies are stored as text: BigQuery's JSON type refuses more than 500 levels. */
  static final int MAX_BODY_DEPTH = 400;

  private static final JsonFactory JSON = new JsonFactory();
  private static final String[] COLUMNS = {
    "organization_id",
    "event_id",
    "timestamp",
    "request_data",
    "event_type",
    "click_id",
    "session_id",
    "source",
    "medium",
    "campaign",
    "ingested_at"
  };
  private static final Descriptor DESCRIPTOR = buildDescriptor();
  private static final ProtoSchema SCHEMA = ProtoSchemaConverter.convert(DESCRIPTOR);

  private EventRows() {}

  /** The writer schema sent with appends. */
  public static ProtoSchema schema() {
    return SCHEMA;
  }

  /** The row message's descriptor, whose field names are the table's columns. */
  public static Descriptor descriptor() {
    return DESCRIPTOR;
  }

  /** The encoded row; {@code ingestedAt} in epoch milliseconds. */
  public static ByteString encode(TrafficEvent e, long ingestedAt) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512 + e.body().length());
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      out.writeString(1, e.organizationId());
      out.writeString(2, e.eventId());
      out.writeInt64(3, Math.multiplyExact(e.timestamp(), 1000L));
      out.writeString(4, requestData(e));
      optional(out, 5, e.eventType());
      optional(out, 6, e.clickId());
      optional(out, 7, e.sessionId());
      optional(out, 8, e.source());
      optional(out, 9, e.medium());
      optional(out, 10, e.campaign());
      out.writeInt64(11, Math.multiplyExact(ingestedAt, 1000L));
      out.flush();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    return ByteString.copyFrom(bytes.toByteArray());
  }

  private static void optional(CodedOutputStream out, int field, String value) throws IOException {
    if (!value.isEmpty()) {
      out.writeString(field, value);
    }
  }

  /** The {@code request_data} JSON document of an event. */
  public static String requestData(TrafficEvent e) {
    StringWriter w = new StringWriter(256 + e.body().length() + e.headers().length());
    try (JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartObject();
      g.writeStringField("method", e.method());
      g.writeStringField("url", e.url());
      g.writeFieldName("headers");
      g.writeRawValue(e.headers());
      g.writeFieldName("query_params");
      g.writeRawValue(e.queryParams());
      g.writeFieldName("body");
      if (isJson(e.body())) {
        g.writeRawValue(e.body());
      } else {
        g.writeString(e.body());
      }
      if (!e.bodyBase64().isEmpty()) {
        g.writeStringField("body_base64", e.bodyBase64());
      }
      g.writeStringField("ip", e.ip());
      g.writeStringField("user_agent", e.userAgent());
      g.writeStringField("referer", e.referer());
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

  private static Descriptor buildDescriptor() {
    DescriptorProto.Builder message = DescriptorProto.newBuilder().setName("TrellisEvent");
    for (int i = 0; i < COLUMNS.length; i++) {
      boolean time = COLUMNS[i].equals("timestamp") || COLUMNS[i].equals("ingested_at");
      message.addField(
          FieldDescriptorProto.newBuilder()
              .setName(COLUMNS[i])
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
