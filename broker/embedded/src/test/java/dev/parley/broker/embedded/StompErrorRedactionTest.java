package dev.parley.broker.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StompErrorRedactionTest {

  @Test
  void aQuotedMessageIsCutOutAndTheRefusalKept() {
    String refused =
        "AMQ339011 Error sending message CoreMessage[messageID=55, durable=true, address=billing"
            + ".commands, properties=TypedProperties[parley-id=01a2, parley-authorization=Bearer"
            + " eyJ.secret]]";

    assertThat(StompErrorRedaction.redact(refused))
        .isEqualTo("AMQ339011 Error sending message (the message withheld)");
    assertThat(StompErrorRedaction.redact("TypedProperties[a=b]"))
        .isEqualTo(" (the message withheld)");
  }

  @Test
  void anErrorWithoutAMessageIsLeftAsItIs() {
    String text = "AMQ339016 Error creating subscription s2.1";

    assertThat(StompErrorRedaction.redact(text)).isSameAs(text);
    assertThat(StompErrorRedaction.redact(null)).isNull();
  }
}
