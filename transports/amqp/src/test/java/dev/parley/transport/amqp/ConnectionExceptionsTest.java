package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.jms.JMSException;
import java.io.IOException;
import org.apache.qpid.jms.exceptions.JmsExceptionSupport;
import org.junit.jupiter.api.Test;

/**
 * What the connection's exception listener tells apart: Qpid JMS reports a receive that a
 * subscription's close interrupted (its own wake-up) as a connection exception, which is not worth
 * a warning; anything else is.
 */
class ConnectionExceptionsTest {

  @Test
  void anInterruptedWaitOfQpidsOwnIsRecognised() {
    assertThat(
            QpidAmqpTransport.interrupted(JmsExceptionSupport.create(new InterruptedException())))
        .isTrue();
    JMSException linked = new JMSException("wrapped");
    linked.setLinkedException(new InterruptedException());
    assertThat(QpidAmqpTransport.interrupted(linked)).isTrue();
  }

  @Test
  void aRealFailureIsNot() {
    assertThat(QpidAmqpTransport.interrupted(JmsExceptionSupport.create(new IOException("reset"))))
        .isFalse();
    assertThat(QpidAmqpTransport.interrupted(new JMSException("connection lost"))).isFalse();
  }
}
