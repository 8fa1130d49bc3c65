package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.net.URI;
import java.time.Duration;
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

  @Test
  void aSecretWrittenAfterItsKeyIsMasked() {
    assertThat(Redaction.text("login failed for app, password=" + SECRET + " (retrying)"))
        .isEqualTo("login failed for app, password=**** (retrying)");
    assertThat(Redaction.text("db.password: " + SECRET + ", pool=8"))
        .isEqualTo("db.password: ****, pool=8");
    assertThat(Redaction.text("{\"user\":\"app\",\"apiKey\":\"" + SECRET + "\"}"))
        .isEqualTo("{\"user\":\"app\",\"apiKey\":\"****\"}");
    assertThat(Redaction.text("jdbc:postgresql://h/db?user=app&password=" + SECRET + "&ssl=true"))
        .isEqualTo("jdbc:postgresql://h/db?user=app&password=****&ssl=true");
    assertThat(Redaction.text("client_secret='" + SECRET + "' x-api-key:" + SECRET))
        .isEqualTo("client_secret='****' x-api-key:****");
    assertThat(Redaction.text("k:access_token=" + SECRET))
        .as("a key inside another key's value")
        .isEqualTo("k:access_token=****");
    assertThat(Redaction.text("password=\"" + SECRET))
        .as("cut short")
        .isEqualTo("password=\"****\"");
  }

  @Test
  void httpCredentialsAreMaskedButProseIsKept() {
    String jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    assertThat(Redaction.text("sent Bearer " + jwt + " to billing"))
        .isEqualTo("sent Bearer **** to billing");
    assertThat(Redaction.text("Authorization: Basic YXBwOnMzbnRpbmVsLVB3"))
        .doesNotContain("YXBwOnMzbnRpbmVsLVB3");
    assertThat(Redaction.text("Basic authentication failed"))
        .isEqualTo("Basic authentication failed");
  }

  @Test
  void textWithoutSecretsIsKeptAsItIs() {
    String plain =
        "parley.header.invalid: parley-deadline: -1; partition key: k-1; parley-partition-key=k-2;"
            + " attempt=3 of 5, queue=orders.cook";
    assertThat(Redaction.text(plain)).isEqualTo(plain);
    assertThat(Redaction.text("password=****")).isEqualTo("password=****");
    assertThat(Redaction.text("password=, retrying")).isEqualTo("password=, retrying");
  }

  @Test
  void aLongWordCostsAScanNotAScanPerCharacter() {
    // hostile input (a 70 KB header value) reaches dead letters' error texts and log lines through
    // text(); scanned again from each character it was quadratic: minutes for these 400,000
    String hostile = "x".repeat(200_000) + "=" + "y".repeat(200_000);
    String uris = "a://b:".repeat(50_000);
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          assertThat(Redaction.text(hostile)).isEqualTo(hostile);
          assertThat(Redaction.text("token=" + hostile)).isEqualTo("token=****");
          assertThat(Redaction.text(uris)).isEqualTo(uris);
        });
  }
}
