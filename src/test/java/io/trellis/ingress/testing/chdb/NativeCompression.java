package io.trellis.ingress.testing.chdb;

import com.clickhouse.data.ClickHouseCityHash;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Decodes a request body sent with {@code decompress=1}: ClickHouse's own block compression, as its
 * HTTP handler reads it. The body is a sequence of blocks:
 *
 * <pre>
 * +-----------------+--------+-----------------+-------------------+----------------------+
 * | CityHash128 (16)| method | compressed size | decompressed size | data                 |
 * | of the rest     |  (1)   | (4, LE, incl.   |  (4, LE)          | (compressed size - 9)|
 * | of the block    |        |  the 9 bytes)   |                   |                      |
 * +-----------------+--------+-----------------+-------------------+----------------------+
 * </pre>
 *
 * Methods: {@code 0x82} LZ4, {@code 0x02} none. A wrong checksum, an unknown method or a size that
 * does not match fails the request, as ClickHouse does (error 40 CHECKSUM_DOESNT_MATCH, 89
 * UNKNOWN_COMPRESSION_METHOD, 271 CANNOT_DECOMPRESS). Stateless.
 */
final class NativeCompression {
  static final int LZ4 = 0x82;
  static final int NONE = 0x02;

  /** A body that cannot be decoded, with the ClickHouse error code that names why. */
  static final class BadBlock extends IOException {
    final int code;
    final String name;

    BadBlock(int code, String name, String message) {
      super(message);
      this.code = code;
      this.name = name;
    }
  }

  private static final LZ4SafeDecompressor LZ4_DECOMPRESSOR =
      LZ4Factory.fastestInstance().safeDecompressor();

  private NativeCompression() {}

  static byte[] decompress(byte[] body) throws BadBlock {
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, body.length * 4));
    int pos = 0;
    while (pos < body.length) {
      if (body.length - pos < 25) {
        throw new BadBlock(271, "CANNOT_DECOMPRESS", "truncated block header at byte " + pos);
      }
      long low = le64(body, pos);
      long high = le64(body, pos + 8);
      int method = body[pos + 16] & 0xFF;
      int compressedSize = le32(body, pos + 17);
      int decompressedSize = le32(body, pos + 21);
      if (compressedSize < 9 || compressedSize > body.length - pos - 16 || decompressedSize < 0) {
        throw new BadBlock(
            271, "CANNOT_DECOMPRESS", "block at byte " + pos + " has impossible sizes");
      }
      long[] hash = ClickHouseCityHash.cityHash128(body, pos + 16, compressedSize);
      if (hash[0] != low || hash[1] != high) {
        throw new BadBlock(
            40,
            "CHECKSUM_DOESNT_MATCH",
            "checksum of the block at byte " + pos + " does not match");
      }
      int dataAt = pos + 25;
      int dataLength = compressedSize - 9;
      byte[] block = new byte[decompressedSize];
      switch (method) {
        case LZ4 -> {
          try {
            int n =
                LZ4_DECOMPRESSOR.decompress(body, dataAt, dataLength, block, 0, decompressedSize);
            if (n != decompressedSize) {
              throw new BadBlock(
                  271, "CANNOT_DECOMPRESS", "LZ4 block at byte " + pos + " has the wrong size");
            }
          } catch (LZ4Exception e) {
            throw new BadBlock(271, "CANNOT_DECOMPRESS", "LZ4 block at byte " + pos + ": " + e);
          }
        }
        case NONE -> {
          if (dataLength != decompressedSize) {
            throw new BadBlock(
                271, "CANNOT_DECOMPRESS", "stored block at byte " + pos + " has the wrong size");
          }
          System.arraycopy(body, dataAt, block, 0, dataLength);
        }
        default ->
            throw new BadBlock(
                89,
                "UNKNOWN_COMPRESSION_METHOD",
                "compression method 0x" + Integer.toHexString(method) + " is not supported here");
      }
      out.write(block, 0, block.length);
      pos += 16 + compressedSize;
    }
    return out.toByteArray();
  }

  private static int le32(byte[] b, int at) {
    return (b[at] & 0xFF)
        | (b[at + 1] & 0xFF) << 8
        | (b[at + 2] & 0xFF) << 16
        | (b[at + 3] & 0xFF) << 24;
  }

  private static long le64(byte[] b, int at) {
    return (le32(b, at) & 0xFFFFFFFFL) | ((long) le32(b, at + 4)) << 32;
  }
}
