package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StompFrameReaderTest {

  private static StompFrameReader reader(String text) {
    return reader(text.getBytes(StandardCharsets.UTF_8), 64 * 1024);
  }

  private static StompFrameReader reader(byte[] bytes, int max) {
    return new StompFrameReader(new ByteArrayInputStream(bytes), max);
  }

  @Test
  void roundTripsEscapedHeadersAndABodyWithNulBytes() throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("destination", "/queue/a");
    headers.put("we:ird\\name", "line1\nline2\r:end\\");
    byte[] body = {1, 0, 2, 0, 3};
    StompFrame frame = new StompFrame("SEND", headers, body);

    StompFrame read = reader(frame.encode(), 1024).read();

    assertThat(read.command()).isEqualTo("SEND");
    assertThat(read.headers())
        .containsEntry("destination", "/queue/a")
        .containsEntry("we:ird\\name", "line1\nline2\r:end\\")
        .containsEntry("content-length", "5");
    assertThat(read.body()).isEqualTo(body);
  }

  @Test
  void skipsHeartBeatsAndAcceptsCrLf() throws IOException {
    StompFrameReader r =
        reader("\n\r\n\nMESSAGE\r\nsubscription:1\r\n\r\nhello\0\n\nRECEIPT\nreceipt-id:7\n\n\0");

    StompFrame first = r.read();
    StompFrame second = r.read();

    assertThat(first.command()).isEqualTo("MESSAGE");
    assertThat(first.header("subscription")).isEqualTo("1");
    assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
    assertThat(second.header("receipt-id")).isEqualTo("7");
    assertThatThrownBy(r::read).isInstanceOf(EOFException.class);
  }

  @Test
  void theFirstOfRepeatedHeadersWins() throws IOException {
    StompFrame f = reader("MESSAGE\nfoo:1\nfoo:2\n\n\0").read();
    assertThat(f.header("foo")).isEqualTo("1");
  }

  @Test
  void connectAndConnectedHeadersAreNotUnescaped() throws IOException {
    StompFrame f = reader("CONNECTED\nserver:a\\cb\n\n\0").read();
    assertThat(f.header("server")).isEqualTo("a\\cb");
  }

  @Test
  void rejectsWhatIsNotAFrame() {
    assertProtocolError("HELLO\n\n\0", "unknown STOMP command");
    assertProtocolError("RECEIPT\nnocolon\n\n\0", "header without");
    assertProtocolError("RECEIPT\n:value\n\n\0", "header without");
    assertProtocolError("RECEIPT\na:b\\t\n\n\0", "undefined header escape");
    assertProtocolError("RECEIPT\na:b\\\n\n\0", "lone backslash");
    assertProtocolError("MESSAGE\ncontent-length:x\n\n\0", "bad content-length");
    assertProtocolError("MESSAGE\ncontent-length:-1\n\n\0", "bad content-length");
    assertProtocolError("MESSAGE\ncontent-length:2\n\nabc\0", "not followed by NUL");
    assertProtocolError("MESSAGE\na:b", "closed in the middle");
    assertProtocolError("MESS\0AGE\n\n\0", "NUL inside");
  }

  @Test
  void rejectsInvalidUtf8InHeaders() {
    byte[] bytes = {'E', 'R', 'R', 'O', 'R', '\n', 'a', ':', (byte) 0xC3, '\n', '\n', 0};
    assertThatThrownBy(() -> reader(bytes, 1024).read())
        .isInstanceOf(StompProtocolException.class)
        .hasMessageContaining("UTF-8");
  }

  /**
   * A MESSAGE is what another client sent: a header this reader will not keep makes that one
   * message unreadable (dead-lettered by the consumer), never the connection. The next frame reads.
   */
  @Test
  void readsAMessageWithHeadersItWillNotKeepToItsEndAndGoesOn() throws IOException {
    StringBuilder many = new StringBuilder("MESSAGE\n");
    for (int i = 0; i < 200; i++) {
      many.append('h').append(i).append(":v\n");
    }
    many.append("subscription:s1\nmessage-id:m1\nack:a1\n\nbody\0");
    String longLine = "MESSAGE\na:" + "x".repeat(StompFrameReader.MAX_LINE_BYTES + 1) + "\n\n\0";
    byte[] badUtf8 = {
      'M', 'E', 'S', 'S', 'A', 'G', 'E', '\n', 'a', ':', (byte) 0xC3, '\n', '\n', 0
    };
    String[] badHeaders = {
      "MESSAGE\nnocolon\n\n\0", "MESSAGE\n:value\n\n\0", "MESSAGE\na:b\\t\n\n\0"
    };
    java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
    stream.writeBytes(many.toString().getBytes(StandardCharsets.UTF_8));
    stream.writeBytes(longLine.getBytes(StandardCharsets.UTF_8));
    stream.writeBytes(badUtf8);
    for (String b : badHeaders) {
      stream.writeBytes(b.getBytes(StandardCharsets.UTF_8));
    }
    stream.writeBytes("RECEIPT\nreceipt-id:7\n\n\0".getBytes(StandardCharsets.UTF_8));
    StompFrameReader r = reader(stream.toByteArray(), Integer.MAX_VALUE);

    StompFrame tooMany = r.read();
    assertThat(tooMany.unreadable()).contains("more than " + StompFrameReader.MAX_HEADERS);
    assertThat(tooMany.headers())
        .containsEntry("subscription", "s1")
        .containsEntry("message-id", "m1")
        .containsEntry("ack", "a1")
        .hasSize(StompFrameReader.MAX_HEADERS + 3);
    assertThat(new String(tooMany.body(), StandardCharsets.UTF_8)).isEqualTo("body");
    assertThat(r.read().unreadable()).contains("longer than");
    assertThat(r.read().unreadable()).contains("UTF-8");
    assertThat(r.read().unreadable()).contains("header without");
    assertThat(r.read().unreadable()).contains("header without");
    assertThat(r.read().unreadable()).contains("undefined header escape");
    StompFrame receipt = r.read();
    assertThat(receipt.header("receipt-id")).isEqualTo("7");
    assertThat(receipt.unreadable()).isNull();
  }

  @Test
  void boundsWhatAPeerCanMakeItHold() {
    assertThatThrownBy(() -> reader("ERROR\ncontent-length:2000\n\n".getBytes(), 1024).read())
        .isInstanceOf(StompProtocolException.class)
        .hasMessageContaining("exceeds");
    byte[] longBody = ("ERROR\n\n" + "x".repeat(3000) + "\0").getBytes();
    assertThatThrownBy(() -> reader(longBody, 1024).read())
        .isInstanceOf(StompProtocolException.class)
        .hasMessageContaining("body exceeds");
    StringBuilder many = new StringBuilder("RECEIPT\n");
    for (int i = 0; i <= StompFrameReader.MAX_HEADERS; i++) {
      many.append('h').append(i).append(":v\n");
    }
    assertThatThrownBy(() -> reader(many.append("\n\0").toString()).read())
        .isInstanceOf(StompProtocolException.class)
        .hasMessageContaining("headers");
    String longLine = "RECEIPT\na:" + "x".repeat(StompFrameReader.MAX_LINE_BYTES + 1) + "\n\n\0";
    assertThatThrownBy(() -> reader(longLine.getBytes(), Integer.MAX_VALUE).read())
        .isInstanceOf(StompProtocolException.class)
        .hasMessageContaining("longer than");
    String longMessageHeaders =
        "MESSAGE\na:" + "x".repeat(StompFrameReader.MAX_LINE_BYTES + 10) + "\n\n\0";
    assertThatThrownBy(() -> reader(longMessageHeaders.getBytes(), 32 * 1024).read())
        .isInstanceOf(StompProtocolException.class)
        .hasMessageContaining("frame headers exceed");
  }

  /**
   * RabbitMQ's plugin writes a NUL byte of an AMQP 0-9-1 header as it is (seen 2026-12-06: {@code
   * k\0ey:v}, {@code nul:a\0b}, {@code amqp-message-id:x\0y}): in a MESSAGE that line is not kept
   * and the message is unreadable, the frame stays in step; elsewhere it is still fatal.
   */
  @Test
  void aNulInsideAMessagesHeaderLineMakesTheMessageUnreadableNotTheConnection() throws IOException {
    byte[] stream =
        ("MESSAGE\nsubscription:1\nk\0ey:v\nnul:a\0b\nack:a1\ncontent-length:2\n\nhi\0"
                + "MESSAGE\nsubscription:1\nack:a2\n\nok\0")
            .getBytes(StandardCharsets.UTF_8);
    StompFrameReader r = reader(stream, 1024);

    StompFrame odd = r.read();
    StompFrame next = r.read();

    assertThat(odd.unreadable()).contains("NUL");
    assertThat(odd.headers()).containsEntry("subscription", "1").containsEntry("ack", "a1");
    assertThat(odd.headers()).doesNotContainKeys("nul", "k");
    assertThat(new String(odd.body(), StandardCharsets.UTF_8)).isEqualTo("hi");
    assertThat(next.unreadable()).isNull();
    assertThat(next.header("ack")).isEqualTo("a2");
    assertProtocolError("RECEIPT\nreceipt-id:a\0b\n\n\0", "NUL inside");
  }

  /**
   * A MESSAGE is another client's: one larger than the reader keeps is skipped, not held and not
   * fatal — read to its end, its body not kept, its size told — and the next frame reads.
   */
  @Test
  void aMessageLargerThanTheLimitIsSkippedNotFatal() throws IOException {
    String body = "x".repeat(5000);
    byte[] stream =
        ("MESSAGE\nsubscription:1\nack:a1\ncontent-length:5000\n\n"
                + body
                + "\0\nMESSAGE\nsubscription:1\nack:a2\n\n"
                + body
                + "\0\nMESSAGE\nsubscription:1\nack:a3\n\nsmall\0")
            .getBytes(StandardCharsets.UTF_8);
    StompFrameReader r = reader(stream, 1024);

    StompFrame counted = r.read();
    StompFrame toNul = r.read();
    StompFrame small = r.read();

    assertThat(counted.bodyNotRead()).isEqualTo(5000);
    assertThat(counted.body()).isEmpty();
    assertThat(counted.header("ack")).isEqualTo("a1");
    assertThat(toNul.bodyNotRead()).isEqualTo(5000);
    assertThat(toNul.header("ack")).isEqualTo("a2");
    assertThat(small.bodyNotRead()).isZero();
    assertThat(new String(small.body(), StandardCharsets.UTF_8)).isEqualTo("small");
  }

  /**
   * A MESSAGE over the limit whose copier makes a copy: the body goes to the copy as it is read,
   * byte for byte, and the frame carries the copy's answer; a copy that fails half-way leaves the
   * rest of the body skipped, and the next frame reads as usual.
   */
  @Test
  void aMessageLargerThanTheLimitIsCopiedOnTheWayPast() throws IOException {
    byte[] body = new byte[50_000];
    new java.util.Random(7).nextBytes(body);
    java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
    for (String ack : new String[] {"a1", "a2"}) {
      stream.writeBytes(
          ("MESSAGE\nsubscription:1\nack:" + ack + "\ncontent-length:50000\n\n")
              .getBytes(StandardCharsets.UTF_8));
      stream.writeBytes(body);
      stream.write(0);
    }
    stream.writeBytes(
        "MESSAGE\nsubscription:1\nack:a3\n\nsmall\0".getBytes(StandardCharsets.UTF_8));
    StompFrameReader r = reader(stream.toByteArray(), 1024);
    java.io.ByteArrayOutputStream copy = new java.io.ByteArrayOutputStream();
    java.util.List<String> copied = new java.util.ArrayList<>();
    r.copyLargeMessagesTo(
        (headers, length, source) -> {
          copied.add(headers.get("ack") + ":" + length);
          java.util.concurrent.CompletableFuture<Void> answer =
              new java.util.concurrent.CompletableFuture<>();
          try {
            if (headers.get("ack").equals("a1")) {
              source.writeTo(copy);
            } else {
              source.writeTo(
                  new java.io.OutputStream() {
                    int written;

                    @Override
                    public void write(int b) throws IOException {
                      write(new byte[] {(byte) b}, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                      if ((written += len) > 20_000) {
                        throw new IOException("the copy's connection is gone");
                      }
                    }
                  });
            }
            answer.complete(null);
          } catch (IOException e) {
            answer.completeExceptionally(e);
          }
          return answer;
        });

    StompFrame whole = r.read();
    StompFrame broken = r.read();
    StompFrame small = r.read();

    assertThat(copied).containsExactly("a1:50000", "a2:50000");
    assertThat(copy.toByteArray()).isEqualTo(body);
    assertThat(whole.bodyNotRead()).isEqualTo(50_000);
    assertThat(whole.body()).isEmpty();
    assertThat(whole.copied()).isCompleted();
    assertThat(broken.copied()).isCompletedExceptionally();
    assertThat(broken.header("ack")).isEqualTo("a2");
    assertThat(new String(small.body(), StandardCharsets.UTF_8)).isEqualTo("small");
    assertThat(small.copied()).isNull();
  }

  /**
   * The reader takes a line straight from its buffer when the line is all there and byte by byte
   * when it is not: frames whose lines break across reads of every size (ASCII, escaped and
   * non-ASCII headers, CR LF, heart-beats) read the same as frames read whole.
   */
  @Test
  void framesSplitAcrossReadsOfAnySizeReadAsWhole() throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("destination", "/queue/a");
    headers.put("we:ird\\name", "line1\nline2\r:end\\");
    headers.put("unicode", "grüße, 東京");
    headers.put("parley-id", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
    stream.writeBytes("\n\r\n".getBytes(StandardCharsets.UTF_8)); // heart-beats
    stream.writeBytes(new StompFrame("SEND", headers, new byte[] {1, 0, 2}).encode());
    stream.writeBytes(
        "MESSAGE\r\nsubscription:1\r\nack:a:b\r\n\r\nhello\0\n".getBytes(StandardCharsets.UTF_8));
    stream.writeBytes(StompFrame.of("CONNECT", Map.of("passcode", "p:ä\\ss")).encode());
    byte[] all = stream.toByteArray();
    java.util.List<StompFrame> whole = readAll(new ByteArrayInputStream(all));
    assertThat(whole).hasSize(3);
    assertThat(whole.get(0).headers())
        .containsEntry("we:ird\\name", "line1\nline2\r:end\\")
        .containsEntry("unicode", "grüße, 東京");
    assertThat(whole.get(2).header("passcode")).isEqualTo("p:ä\\ss");
    for (int chunk = 1; chunk <= 13; chunk++) {
      int size = chunk;
      java.io.InputStream trickle =
          new ByteArrayInputStream(all) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
              return super.read(b, off, Math.min(len, size));
            }
          };
      assertThat(readAll(trickle)).as("read %d bytes at a time", size).isEqualTo(whole);
    }
  }

  private static java.util.List<StompFrame> readAll(java.io.InputStream in) throws IOException {
    StompFrameReader r = new StompFrameReader(in, 64 * 1024);
    java.util.List<StompFrame> frames = new java.util.ArrayList<>();
    while (true) {
      try {
        frames.add(r.read());
      } catch (EOFException e) {
        return frames;
      }
    }
  }

  private static void assertProtocolError(String text, String message) {
    assertThatThrownBy(() -> reader(text).read())
        .as(text)
        .isInstanceOf(StompProtocolException.class)
        .hasMessageContaining(message);
  }
}
