package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.util.ArrayList;
import java.util.List;

/**
 * Whatever a broker (or something pretending to be one) sends, the frame reader either returns
 * frames or fails with an {@link java.io.IOException} ({@link StompProtocolException} or {@link
 * EOFException}): nothing else escapes, and it never holds more than its limit. Every frame it
 * returns re-encodes to bytes it reads back as the same frame. Runs the seed corpus in the build
 * (regression mode); fuzz for real with {@code JAZZER_FUZZ=1 ./mvnw test -pl transports/stomp
 * -Dtest=StompFrameReaderFuzzTest}.
 */
class StompFrameReaderFuzzTest {

  @FuzzTest(maxDuration = "30s")
  void readsFramesOrFailsWithAProtocolError(byte[] input) {
    StompFrameReader reader = new StompFrameReader(new ByteArrayInputStream(input), 4096);
    List<StompFrame> frames = new ArrayList<>();
    try {
      while (frames.size() < 64) {
        frames.add(reader.read());
      }
    } catch (java.io.IOException expected) {
      // StompProtocolException or EOFException: the only ways to fail
    }
    for (StompFrame frame : frames) {
      assertThat(frame.body().length).isLessThanOrEqualTo(4096);
      byte[] again;
      try {
        again = frame.encode();
      } catch (IllegalArgumentException unescapable) {
        // A CONNECT/CONNECTED header value with a line break cannot be written unescaped; the
        // encoder refuses it rather than corrupt the stream.
        continue;
      }
      try {
        StompFrame reread = new StompFrameReader(new ByteArrayInputStream(again), 1 << 20).read();
        assertThat(reread.command()).isEqualTo(frame.command());
        assertThat(reread.body()).isEqualTo(frame.body());
        frame
            .headers()
            .forEach(
                (k, v) -> {
                  if (!k.equals("content-length")) {
                    assertThat(reread.headers()).containsEntry(k, v);
                  }
                });
      } catch (java.io.IOException e) {
        throw new AssertionError("re-encoded frame unreadable: " + frame, e);
      }
    }
  }
}
