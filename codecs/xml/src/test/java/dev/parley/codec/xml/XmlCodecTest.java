package dev.parley.codec.xml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.codec.CodecException;
import dev.parley.testing.tck.CodecFixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.stream.XMLInputFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class XmlCodecTest {

  private static final String BILLION_LAUGHS =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
          + "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
          + "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
          + "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>"
          + "<Text><id>x</id><text>&lol4;</text></Text>";

  @Test
  void rejectsExternalEntities(@TempDir Path dir) throws Exception {
    Path secret = Files.writeString(dir.resolve("secret.txt"), "top-secret");
    String xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY xxe SYSTEM \""
            + secret.toUri()
            + "\">]>"
            + "<Text><id>x</id><text>&xxe;</text></Text>";

    assertThatThrownBy(
            () ->
                XmlCodec.of()
                    .decode(xxe.getBytes(StandardCharsets.UTF_8), CodecFixtures.Text.class))
        .isInstanceOf(CodecException.class)
        .hasMessageNotContaining("top-secret");
  }

  @Test
  void rejectsEntityExpansion() {
    assertThatThrownBy(
            () ->
                XmlCodec.of()
                    .decode(
                        BILLION_LAUGHS.getBytes(StandardCharsets.UTF_8), CodecFixtures.Text.class))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.MALFORMED));
  }

  @Test
  void hardensACallerSuppliedParserFactory() {
    XMLInputFactory permissive = XMLInputFactory.newFactory();
    permissive.setProperty(XMLInputFactory.SUPPORT_DTD, true);
    permissive.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, true);

    XmlCodec codec = XmlCodec.builder().inputFactory(permissive).build();

    assertThat(permissive.getProperty(XMLInputFactory.SUPPORT_DTD)).isEqualTo(false);
    assertThatThrownBy(
            () ->
                codec.decode(
                    BILLION_LAUGHS.getBytes(StandardCharsets.UTF_8), CodecFixtures.Text.class))
        .isInstanceOf(CodecException.class);
  }

  @Test
  void writesDurationsAndInstantsAsIsoText() {
    byte[] xml = XmlCodec.of().encode(CodecFixtures.plainJava().timestamps());

    assertThat(new String(xml, StandardCharsets.UTF_8))
        .contains("2026-11-24T10:15:30.123Z", "PT42M");
  }
}
