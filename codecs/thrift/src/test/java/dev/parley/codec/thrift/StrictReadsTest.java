package dev.parley.codec.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.codec.spi.Utf8;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.transport.TMemoryBuffer;
import org.apache.thrift.transport.TMemoryInputTransport;
import org.apache.thrift.transport.TTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decoder reads a payload in place (no copy of the whole payload first), so what it keeps of a
 * binary field must be a copy: libthrift's own {@code readBinary} returns a view into the buffer it
 * reads — the message's payload — which the decoded struct would share and keep alive.
 */
class StrictReadsTest {

  private static final byte[] FIELD = {1, 2, 3, 4, 5};

  @ParameterizedTest
  @ValueSource(strings = {"binary", "compact"})
  void aBinaryFieldIsACopyNotAViewIntoThePayload(String protocol) throws Exception {
    byte[] payload = written(protocol, FIELD);

    ByteBuffer read = reader(protocol, payload).readBinary();

    assertThat(bytes(read)).containsExactly(FIELD);
    assertThat(read.hasArray() && read.array() == payload).as("a view into the payload").isFalse();
    Arrays.fill(payload, (byte) 0); // the message's payload changing later changes nothing read
    assertThat(bytes(read)).containsExactly(FIELD);
  }

  @ParameterizedTest
  @ValueSource(strings = {"binary", "compact"})
  void aBinaryLongerThanThePayloadIsRefused(String protocol) throws Exception {
    byte[] payload = written(protocol, FIELD);
    byte[] cut = Arrays.copyOf(payload, payload.length - 2);

    assertThatThrownBy(() -> reader(protocol, cut).readBinary())
        .isInstanceOf(TProtocolException.class)
        .hasMessageContaining("runs past the payload");
  }

  @ParameterizedTest
  @ValueSource(strings = {"binary", "compact"})
  void aBinaryOverTheLimitIsRefused(String protocol) throws Exception {
    byte[] payload = written(protocol, new byte[100]);

    assertThatThrownBy(() -> reader(protocol, payload, 50).readBinary())
        .isInstanceOf(TProtocolException.class)
        .hasMessageContaining("out of bounds");
  }

  /**
   * The string read decodes first and validates only a string with U+FFFD in it (the JDK's decoder
   * puts one for every malformed sequence): it must accept exactly what the strict validator does —
   * random byte strings weighted toward the bytes UTF-8 treats specially, and the edge cases.
   */
  @Test
  void aStringIsAcceptedExactlyWhenItIsValidUtf8() throws Exception {
    List<byte[]> cases = new ArrayList<>();
    for (String hex :
        List.of(
            "efbfbd", // U+FFFD sent as such: valid
            "61efbfbd62",
            "c080", // overlong
            "e08080",
            "eda080", // a UTF-16 surrogate
            "f4908080", // past U+10FFFF
            "f8888080",
            "c3", // cut short
            "e282",
            "80", // a lone continuation byte
            "fe",
            "ff",
            "c328",
            "f09f9a80")) { // U+1F680: valid
      cases.add(HexFormat.of().parseHex(hex));
    }
    byte[] special = {
      0x00,
      0x41,
      0x7f,
      (byte) 0x80,
      (byte) 0xbf,
      (byte) 0xc0,
      (byte) 0xc2,
      (byte) 0xdf,
      (byte) 0xe0,
      (byte) 0xed,
      (byte) 0xef,
      (byte) 0xf0,
      (byte) 0xf4,
      (byte) 0xf5,
      (byte) 0xff,
      (byte) 0xa0,
      (byte) 0x90,
      (byte) 0xbd
    };
    Random random = new Random(20261206);
    for (int i = 0; i < 200_000; i++) {
      byte[] b = new byte[1 + random.nextInt(9)];
      for (int j = 0; j < b.length; j++) {
        b[j] =
            random.nextInt(3) == 0
                ? (byte) random.nextInt(256)
                : special[random.nextInt(special.length)];
      }
      cases.add(b);
    }
    int valid = 0;
    for (byte[] bytes : cases) {
      boolean expected = Utf8.isValid(bytes, 0, bytes.length);
      valid += expected ? 1 : 0;
      TMemoryInputTransport transport = new TMemoryInputTransport(new TConfiguration(), bytes);
      boolean accepted;
      try {
        String read = StrictReads.readUtf8(transport, bytes.length, 1 << 20);
        accepted = true;
        assertThat(read.getBytes(StandardCharsets.UTF_8)).containsExactly(bytes);
      } catch (TProtocolException e) {
        accepted = false;
      }
      assertThat(accepted).as(HexFormat.of().formatHex(bytes)).isEqualTo(expected);
    }
    // both kinds were tried, in numbers
    assertThat(valid).isGreaterThan(10_000);
    assertThat(cases.size() - valid).isGreaterThan(10_000);
  }

  private static TProtocol reader(String protocol, byte[] payload) throws Exception {
    return reader(protocol, payload, 1 << 20);
  }

  private static TProtocol reader(String protocol, byte[] payload, int maxBytes) throws Exception {
    TMemoryInputTransport transport = new TMemoryInputTransport(new TConfiguration(), payload);
    BiFunction<TTransport, Integer, TProtocol> strict =
        protocol.equals("binary")
            ? (t, max) -> StrictReads.binary(t, max, 64)
            : (t, max) -> StrictReads.compact(t, max, 64);
    return strict.apply(transport, maxBytes);
  }

  private static byte[] written(String protocol, byte[] field) throws Exception {
    TMemoryBuffer out = new TMemoryBuffer(64);
    TProtocol writer =
        protocol.equals("binary") ? new TBinaryProtocol(out) : new TCompactProtocol(out);
    writer.writeBinary(ByteBuffer.wrap(field));
    return Arrays.copyOf(out.getArray(), out.length());
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }
}
