package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class RedactionTest {

  private static final String SECRET = "s3ntinel-Pw";

  @Test
  void aUrisPasswordIsMaskedAndTheRestKept() {
    assertThat(Redaction.uri(URI.create("amqp://guest:" + SECRET + "@broker:5672/orders")))
        .isEqualTo("amqp://guest:****@broker:5672/orders");
    assertThat(Redaction.uri(URI.create("stomp://broker:61613/")))
        .isEqualTo("stomp://broker:61613/");
    assertThat(Redaction.uri(URI.create("amqp://user@broker"))).isEqualTo("amqp://user@broker");
  }

  @Test
  void textThatIsNoValidUriIsMaskedToo() {
    assertThat(
            Redaction.text("bad: rabbitmq://u:" + SECRET + " x@h:1/ and amqp://a:" + SECRET + "@h"))
        .doesNotContain(SECRET)
        .contains("rabbitmq://u:****")
        .contains("amqp://a:****@h");
    assertThat(Redaction.text("amqp://u:p@" + SECRET + "@host:5672/"))
        .as("an unencoded @ in the password")
        .isEqualTo("amqp://u:****@host:5672/");
    assertThat(Redaction.text("no uri here")).isEqualTo("no uri here");
  }

  @Test
  void aLibrarysOwnWordsLoseThePasswordAsWrittenAndDecoded() {
    URI uri = URI.create("amqp://guest:" + SECRET + "%25x@broker:5672/");
    String library = "Illegal character in password " + SECRET + "%x and " + SECRET + "%25x";

    assertThat(Redaction.text(library, uri)).doesNotContain(SECRET).contains("****");
  }
}
