package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.MalformedFrameException;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.Frame;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The content-header guard against amqp-client's own reader: what amqp-client reads passes as it
 * came; what it refuses (and would close the connection for) is replaced by a table it reads.
 */
class HeaderTableGuardTest {

  @Test
  void tablesAndArraysUpToTheClientsDepthPassUntouched() throws IOException {
    for (Object deepest : List.of(nestedTables(32), nestedArrays(32), nestedMixed(32))) {
      Frame frame = header(props(Map.of("h", deepest)));
      assertThat(readByClient(frame).getHeaders()).containsKey("h"); // amqp-client reads it
      assertThat(guard(frame)).isSameAs(frame);
    }
    Frame plain = header(new AMQP.BasicProperties.Builder().messageId("m").build());
    assertThat(guard(plain)).isSameAs(plain);
  }

  @Test
  void deeperOnesAreReplacedByATableTheClientReads() throws IOException {
    for (Object tooDeep :
        List.of(nestedTables(33), nestedArrays(33), nestedMixed(33), List.of(nestedTables(40)))) {
      AMQP.BasicProperties sent =
          new AMQP.BasicProperties.Builder()
              .contentType("application/json")
              .contentEncoding("identity")
              .headers(Map.of("h", tooDeep, "parley-type", "t"))
              .deliveryMode(2)
              .messageId("m-1")
              .build();
      Frame frame = header(sent);
      assertThatThrownBy(() -> readByClient(frame))
          .as("the fault: amqp-client refuses it")
          .isInstanceOf(MalformedFrameException.class)
          .hasMessageContaining("nested");

      AMQP.BasicProperties read = readByClient(guard(frame));
      assertThat(read.getHeaders()).containsOnlyKeys(HeaderTableGuard.UNREADABLE);
      assertThat(String.valueOf(read.getHeaders().get(HeaderTableGuard.UNREADABLE)))
          .contains("nested deeper than 32 levels");
      // every other property as sent
      assertThat(read.getContentType()).isEqualTo("application/json");
      assertThat(read.getContentEncoding()).isEqualTo("identity");
      assertThat(read.getDeliveryMode()).isEqualTo(2);
      assertThat(read.getMessageId()).isEqualTo("m-1");
    }
  }

  @Test
  void aFieldTypeTheClientDoesNotKnowIsReplaced() throws IOException {
    Frame frame = header(props(Map.of("a", "b")));
    byte[] p = frame.getPayload();
    // the table's one field: name "a", type 'S', length, "b" — make the type unknown
    int type = p.length - 1 - 4 - 1;
    assertThat((char) p[type]).isEqualTo('S');
    p[type] = 'Z';
    Frame hostile = new Frame(AMQP.FRAME_HEADER, 1, p);
    assertThatThrownBy(() -> readByClient(hostile)).isInstanceOf(MalformedFrameException.class);

    assertThat(readByClient(guard(hostile)).getHeaders())
        .containsOnlyKeys(HeaderTableGuard.UNREADABLE);
  }

  @Test
  void aMessageWithTheReplacedTableIsAnUnreadableDelivery() throws IOException {
    Frame frame = header(props(Map.of("h", nestedTables(50))));
    AMQP.BasicProperties read = readByClient(guard(frame));

    var delivery =
        RabbitMessages.delivery(
            read, new byte[] {1}, new dev.parley.transport.spi.Destination.Queue("q"), 1);

    assertThat(delivery.isReadable()).isFalse();
    assertThat(delivery.unreadable().errorCode()).isEqualTo("parley.message.unreadable");
    assertThat(delivery.message().payload()).containsExactly(1);
  }

  @Test
  void aBodyOverTheMaximumIsNotReadAndTheMessageSaysSo() throws IOException {
    AMQP.BasicProperties sent =
        new AMQP.BasicProperties.Builder()
            .contentType("application/json")
            .headers(Map.of("parley-type", "t"))
            .messageId("m-2")
            .build();
    Frame fits = sent.toFrame(1, 1000);
    assertThat(HeaderTableGuard.guarded(fits, 1000).frame()).isSameAs(fits);
    assertThat(HeaderTableGuard.guarded(fits, 1000).skipBody()).isZero();

    for (AMQP.BasicProperties props :
        List.of(sent, new AMQP.BasicProperties.Builder().messageId("m-3").build())) {
      HeaderTableGuard.Guarded over = HeaderTableGuard.guarded(props.toFrame(1, 1001), 1000);

      assertThat(over.skipBody()).as("body bytes the guard skips").isEqualTo(1001);
      AMQP.BasicProperties read = readByClient(over.frame());
      assertThat(read.getBodySize()).as("amqp-client expects no body").isZero();
      // the table kept (a request's reply token is in it: its caller is told), the entry added
      Map<String, Object> expected = new java.util.HashMap<>();
      if (props.getHeaders() != null) {
        expected.putAll(props.getHeaders());
      }
      assertThat(read.getHeaders())
          .containsOnlyKeys(concat(expected.keySet(), HeaderTableGuard.BODY_NOT_READ));
      expected.forEach(
          (name, value) ->
              assertThat(String.valueOf(read.getHeaders().get(name))).isEqualTo(value));
      assertThat(String.valueOf(read.getHeaders().get(HeaderTableGuard.BODY_NOT_READ)))
          .isEqualTo("a body of 1001 bytes, more than the 1000 this connection reads");
      assertThat(read.getMessageId()).isEqualTo(props.getMessageId());
      assertThat(read.getContentType()).isEqualTo(props.getContentType());
    }

    // a table amqp-client would refuse as well: replaced, only the entry left
    AMQP.BasicProperties deep =
        new AMQP.BasicProperties.Builder()
            .headers(Map.of("deep", nestedTables(40)))
            .messageId("m-4")
            .build();
    AMQP.BasicProperties read =
        readByClient(HeaderTableGuard.guarded(deep.toFrame(1, 1001), 1000).frame());
    assertThat(read.getHeaders()).containsOnlyKeys(HeaderTableGuard.BODY_NOT_READ);
    assertThat(read.getMessageId()).isEqualTo("m-4");
  }

  private static String[] concat(java.util.Set<String> names, String more) {
    List<String> all = new java.util.ArrayList<>(names);
    all.add(more);
    return all.toArray(new String[0]);
  }

  private static Frame guard(Frame frame) {
    HeaderTableGuard.Guarded g = HeaderTableGuard.guarded(frame, Integer.MAX_VALUE);
    assertThat(g.skipBody()).isZero();
    return g.frame();
  }

  private static Object nestedTables(int levels) {
    Object value = "leaf";
    for (int i = 0; i < levels; i++) {
      value = Map.of("n", value);
    }
    return value;
  }

  private static Object nestedArrays(int levels) {
    Object value = "leaf";
    for (int i = 0; i < levels; i++) {
      value = List.of(value);
    }
    return value;
  }

  /** Tables and arrays in turn, {@code levels} of them. */
  private static Object nestedMixed(int levels) {
    Object value = "leaf";
    for (int i = 0; i < levels; i++) {
      value = i % 2 == 0 ? List.of(value) : Map.of("n", value);
    }
    return value;
  }

  private static AMQP.BasicProperties props(Map<String, Object> headers) {
    return new AMQP.BasicProperties.Builder().headers(headers).build();
  }

  private static Frame header(AMQP.BasicProperties props) throws IOException {
    return props.toFrame(1, 10);
  }

  private static AMQP.BasicProperties readByClient(Frame frame) throws IOException {
    return (AMQP.BasicProperties)
        AMQImpl.readContentHeaderFrom(
            new DataInputStream(new ByteArrayInputStream(frame.getPayload())));
  }
}
