package io.trellis.ingress.testing.bigquery;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.cloud.bigquery.storage.v1.AppendRowsRequest;
import com.google.cloud.bigquery.storage.v1.AppendRowsResponse;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteGrpc;
import com.google.cloud.bigquery.storage.v1.CreateWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.FinalizeWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.FinalizeWriteStreamResponse;
import com.google.cloud.bigquery.storage.v1.GetWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.RowError;
import com.google.cloud.bigquery.storage.v1.StorageError;
import com.google.cloud.bigquery.storage.v1.TableFieldSchema;
import com.google.cloud.bigquery.storage.v1.TableSchema;
import com.google.cloud.bigquery.storage.v1.WriteStream;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Int64Value;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Storage Write API side of {@link FakeBigQuery}: committed streams with BigQuery's offset
 * rules (an offset below the stream's end is {@code ALREADY_EXISTS}, above it {@code OUT_OF_RANGE},
 * each with a {@link StorageError} detail and BigQuery's "expected offset N, received M" message),
 * all-or-nothing requests with per-row errors, and rows decoded with the writer schema sent on the
 * connection.
 */
final class FakeWriteService extends BigQueryWriteGrpc.BigQueryWriteImplBase {
  private static final long MAX_REQUEST_BYTES = 10_000_000;

  private final FakeBigQuery bq;

  FakeWriteService(FakeBigQuery bq) {
    this.bq = bq;
  }

  @Override
  public void createWriteStream(
      CreateWriteStreamRequest request, StreamObserver<WriteStream> response) {
    synchronized (bq) {
      if (bq.restDown) {
        response.onError(Status.UNAVAILABLE.withDescription("fake is down").asRuntimeException());
        return;
      }
      if (!bq.tables.containsKey(request.getParent())) {
        response.onError(
            Status.NOT_FOUND
                .withDescription("Table not found: " + request.getParent())
                .asRuntimeException());
        return;
      }
      if (request.getWriteStream().getType() != WriteStream.Type.COMMITTED) {
        response.onError(
            Status.UNIMPLEMENTED
                .withDescription("the fake has committed streams only")
                .asRuntimeException());
        return;
      }
      String name = request.getParent() + "/streams/s" + (++bq.streamCounter);
      bq.streams.put(name, new FakeBigQuery.Stream(name, request.getParent()));
      response.onNext(describe(name));
      response.onCompleted();
    }
  }

  @Override
  public void getWriteStream(GetWriteStreamRequest request, StreamObserver<WriteStream> response) {
    synchronized (bq) {
      if (bq.restDown) {
        response.onError(Status.UNAVAILABLE.withDescription("fake is down").asRuntimeException());
      } else if (!bq.streams.containsKey(request.getName())) {
        response.onError(
            Status.NOT_FOUND
                .withDescription("Stream not found: " + request.getName())
                .asRuntimeException());
      } else {
        response.onNext(describe(request.getName()));
        response.onCompleted();
      }
    }
  }

  @Override
  public void finalizeWriteStream(
      FinalizeWriteStreamRequest request, StreamObserver<FinalizeWriteStreamResponse> response) {
    synchronized (bq) {
      FakeBigQuery.Stream s = bq.streams.get(request.getName());
      if (s == null) {
        response.onError(Status.NOT_FOUND.asRuntimeException());
        return;
      }
      s.finalized = true;
      response.onNext(FinalizeWriteStreamResponse.newBuilder().setRowCount(s.rows.size()).build());
      response.onCompleted();
    }
  }

  private WriteStream describe(String name) {
    FakeBigQuery.Stream s = bq.streams.get(name);
    Timestamp now = Timestamp.newBuilder().setSeconds(System.currentTimeMillis() / 1000).build();
    return WriteStream.newBuilder()
        .setName(name)
        .setType(WriteStream.Type.COMMITTED)
        .setCreateTime(now)
        .setCommitTime(now)
        .setTableSchema(tableSchema(bq.tables.get(s.table)))
        .setWriteMode(WriteStream.WriteMode.INSERT)
        .setLocation("US")
        .build();
  }

  private static TableSchema tableSchema(JsonNode table) {
    TableSchema.Builder b = TableSchema.newBuilder();
    for (JsonNode f : table.path("schema").path("fields")) {
      b.addFields(
          TableFieldSchema.newBuilder()
              .setName(f.path("name").asText())
              .setType(TableFieldSchema.Type.valueOf(f.path("type").asText("STRING")))
              .setMode(TableFieldSchema.Mode.valueOf(f.path("mode").asText("NULLABLE"))));
    }
    return b.build();
  }

  @Override
  public StreamObserver<AppendRowsRequest> appendRows(StreamObserver<AppendRowsResponse> response) {
    return new StreamObserver<>() {
      String stream;
      Descriptor descriptor;
      boolean broken;

      @Override
      public void onNext(AppendRowsRequest request) {
        if (broken) {
          return;
        }
        if (!request.getWriteStream().isEmpty()) {
          stream = request.getWriteStream();
        }
        if (request.getProtoRows().hasWriterSchema()) {
          descriptor = descriptor(request.getProtoRows().getWriterSchema().getProtoDescriptor());
        }
        synchronized (bq) {
          if (bq.failAppends > 0) {
            bq.failAppends--;
            broken = true;
            record(request, "failed " + bq.failWith);
            response.onError(
                Status.fromCode(bq.failWith).withDescription("fake failure").asRuntimeException());
            return;
          }
          AppendRowsResponse answer = append(request);
          if (!answer.hasError() && bq.okBeforeFailures > 0 && --bq.okBeforeFailures == 0) {
            bq.failAppends = bq.heldFailures;
          }
          if (!answer.hasError() && bq.okBeforeHold >= 0 && bq.okBeforeHold-- == 0) {
            bq.held++;
            broken = true; // stored; the answer never comes
            return;
          }
          if (!answer.hasError() && bq.loseAcks > 0) {
            bq.loseAcks--;
            broken = true;
            response.onError(
                Status.UNAVAILABLE
                    .withDescription("connection reset after commit")
                    .asRuntimeException());
            return;
          }
          response.onNext(answer);
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        if (!broken) {
          response.onCompleted();
        }
      }

      /** Holds the lock. */
      private AppendRowsResponse append(AppendRowsRequest request) {
        int bytes = request.getSerializedSize();
        int count = request.getProtoRows().getRows().getSerializedRowsCount();
        if (bytes > MAX_REQUEST_BYTES) {
          record(request, "too large");
          return error(
              Status.Code.INVALID_ARGUMENT, "AppendRows request too large: " + bytes, null);
        }
        FakeBigQuery.Stream s = bq.streams.get(stream);
        if (s == null) {
          record(request, "stream not found");
          return storageError(
              Status.Code.NOT_FOUND,
              StorageError.StorageErrorCode.STREAM_NOT_FOUND,
              "Stream not found");
        }
        if (s.finalized) {
          record(request, "finalized");
          return storageError(
              Status.Code.INVALID_ARGUMENT,
              StorageError.StorageErrorCode.STREAM_FINALIZED,
              "Stream is finalized");
        }
        if (descriptor == null) {
          record(request, "no schema");
          return error(Status.Code.INVALID_ARGUMENT, "no writer schema on this connection", null);
        }
        JsonNode table = bq.tables.get(s.table);
        Map<String, JsonNode> columns = new LinkedHashMap<>();
        for (JsonNode f : table.path("schema").path("fields")) {
          columns.put(f.path("name").asText().toLowerCase(Locale.ROOT), f);
        }
        for (FieldDescriptor f : descriptor.getFields()) {
          if (!columns.containsKey(f.getName().toLowerCase(Locale.ROOT))) {
            record(request, "schema mismatch");
            return storageError(
                Status.Code.INVALID_ARGUMENT,
                StorageError.StorageErrorCode.SCHEMA_MISMATCH_EXTRA_FIELDS,
                "Input schema has more fields than BigQuery schema, extra fields: '"
                    + f.getName()
                    + "'");
          }
        }
        long end = s.rows.size();
        if (request.hasOffset()) {
          long offset = request.getOffset().getValue();
          if (offset < end) {
            record(request, "already exists");
            return storageError(
                Status.Code.ALREADY_EXISTS,
                StorageError.StorageErrorCode.OFFSET_ALREADY_EXISTS,
                offsetMessage("The offset is within stream", end, offset));
          }
          if (offset > end) {
            record(request, "out of range");
            return storageError(
                Status.Code.OUT_OF_RANGE,
                StorageError.StorageErrorCode.OFFSET_OUT_OF_RANGE,
                offsetMessage("The offset is beyond stream", end, offset));
          }
        }
        List<Map<String, Object>> decoded = new ArrayList<>(count);
        List<RowError> rowErrors = new ArrayList<>();
        List<ByteString> raw = request.getProtoRows().getRows().getSerializedRowsList();
        for (int i = 0; i < raw.size(); i++) {
          try {
            Map<String, Object> row =
                decode(DynamicMessage.parseFrom(descriptor, raw.get(i)), columns);
            if (bq.rejectRow.test(row)) {
              throw new IllegalArgumentException("row refused by the test");
            }
            decoded.add(row);
          } catch (Exception e) {
            rowErrors.add(
                RowError.newBuilder()
                    .setIndex(i)
                    .setCode(RowError.RowErrorCode.FIELDS_ERROR)
                    .setMessage(String.valueOf(e.getMessage()))
                    .build());
          }
        }
        if (!rowErrors.isEmpty()) {
          record(request, "row errors " + rowErrors.size());
          return error(
              Status.Code.INVALID_ARGUMENT, "Errors found while processing rows.", rowErrors);
        }
        s.rows.addAll(decoded);
        record(request, "ok");
        return AppendRowsResponse.newBuilder()
            .setAppendResult(
                AppendRowsResponse.AppendResult.newBuilder().setOffset(Int64Value.of(end)))
            .setWriteStream(s.name)
            .build();
      }

      private String offsetMessage(String what, long end, long offset) {
        return bq.reportExpectedOffset
            ? what + ", expected offset " + end + ", received " + offset
            : what;
      }

      private void record(AppendRowsRequest request, String result) {
        bq.calls.add(
            new FakeBigQuery.AppendCall(
                stream,
                request.hasOffset() ? request.getOffset().getValue() : -1,
                request.getProtoRows().getRows().getSerializedRowsCount(),
                request.getSerializedSize(),
                result));
      }

      private AppendRowsResponse storageError(
          Status.Code code, StorageError.StorageErrorCode storageCode, String message) {
        StorageError detail =
            StorageError.newBuilder()
                .setCode(storageCode)
                .setEntity(stream)
                .setErrorMessage(message)
                .build();
        return AppendRowsResponse.newBuilder()
            .setError(
                com.google.rpc.Status.newBuilder()
                    .setCode(code.value())
                    .setMessage(message)
                    .addDetails(Any.pack(detail)))
            .build();
      }

      private AppendRowsResponse error(Status.Code code, String message, List<RowError> rows) {
        AppendRowsResponse.Builder b =
            AppendRowsResponse.newBuilder()
                .setError(
                    com.google.rpc.Status.newBuilder().setCode(code.value()).setMessage(message));
        if (rows != null) {
          b.addAllRowErrors(rows);
        }
        return b.build();
      }
    };
  }

  /** A row as BigQuery would store it: TIMESTAMP as Instant, JSON parsed, unset columns null. */
  private static Map<String, Object> decode(DynamicMessage m, Map<String, JsonNode> columns)
      throws Exception {
    Map<String, Object> row = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> c : columns.entrySet()) {
      FieldDescriptor f = m.getDescriptorForType().findFieldByName(c.getKey());
      String type = c.getValue().path("type").asText();
      boolean set = f != null && m.hasField(f);
      if (!set) {
        if (c.getValue().path("mode").asText().equals("REQUIRED")) {
          throw new IllegalArgumentException("Missing required field: " + c.getKey() + ".");
        }
        row.put(c.getKey(), null);
        continue;
      }
      Object v = m.getField(f);
      switch (type) {
        case "TIMESTAMP" -> row.put(c.getKey(), Instant.EPOCH.plus((Long) v, ChronoUnit.MICROS));
        case "JSON" -> {
          try {
            row.put(c.getKey(), FakeBigQuery.JSON.readTree((String) v));
          } catch (Exception e) {
            throw new IllegalArgumentException("Field " + c.getKey() + ": invalid JSON");
          }
        }
        default -> row.put(c.getKey(), v);
      }
    }
    return row;
  }

  private static Descriptor descriptor(com.google.protobuf.DescriptorProtos.DescriptorProto proto) {
    try {
      FileDescriptorProto file =
          FileDescriptorProto.newBuilder().setName("writer.proto").addMessageType(proto).build();
      return FileDescriptor.buildFrom(file, new FileDescriptor[0]).getMessageTypes().get(0);
    } catch (Exception e) {
      throw new IllegalArgumentException("bad writer schema", e);
    }
  }
}
