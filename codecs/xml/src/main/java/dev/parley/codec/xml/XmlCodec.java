package dev.parley.codec.xml;

import com.ctc.wstx.api.WstxInputProperties;
import com.ctc.wstx.stax.WstxInputFactory;
import com.ctc.wstx.stax.WstxOutputFactory;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.xml.XmlFactory;
import com.fasterxml.jackson.dataformat.xml.XmlMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.spi.Limits;
import dev.parley.codec.spi.SchemaTypes;
import java.io.IOException;
import java.util.Locale;
import java.util.Objects;
import javax.xml.stream.XMLInputFactory;

/**
 * XML through Jackson XML with safe defaults: DTDs are not processed and external resources never
 * resolved, so every entity reference — XXE, "billion laughs" — fails the decode, element depth,
 * text and attribute sizes are bounded, no polymorphic typing. The protections are applied to a
 * caller-supplied {@link XMLInputFactory} too, which fails fast when it cannot honour them.
 * Thread-safe.
 */
public final class XmlCodec implements Codec {

  /** The content type written and read. */
  public static final String CONTENT_TYPE = "application/xml";

  private final XmlMapper mapper;
  private final int maxPayloadBytes;

  private XmlCodec(XmlMapper mapper, int maxPayloadBytes) {
    this.mapper = mapper;
    this.maxPayloadBytes = maxPayloadBytes;
  }

  /** A codec with the default limits (1 MiB payloads, depth 64). */
  public static XmlCodec of() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  /** Plain classes; Protobuf, Avro and Thrift types are left to their own codecs. */
  @Override
  public boolean supports(Class<?> type) {
    return !SchemaTypes.isSchemaGenerated(type);
  }

  @Override
  public byte[] encode(Object value) {
    try {
      byte[] bytes = mapper.writeValueAsBytes(value);
      Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
      return bytes;
    } catch (JsonProcessingException e) {
      throw new CodecException(
          CodecException.UNENCODABLE, "cannot write as XML: " + e.getOriginalMessage(), e);
    }
  }

  @Override
  public <T> T decode(byte[] bytes, Class<T> type) {
    Objects.requireNonNull(type, "type");
    Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
    try {
      T value = mapper.readValue(bytes, type);
      if (value == null) {
        throw new CodecException(
            CodecException.MALFORMED,
            "empty XML document (expected: a " + type.getSimpleName() + ")");
      }
      return value;
    } catch (IOException | RuntimeException e) {
      if (e instanceof CodecException c) {
        throw c;
      }
      throw classify(e, type);
    } catch (StackOverflowError e) {
      throw new CodecException(CodecException.TOO_DEEP, "XML nests too deeply", null);
    }
  }

  private static CodecException classify(Exception e, Class<?> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
      if (t instanceof StreamConstraintsException || message.contains("depth")) {
        return new CodecException(CodecException.TOO_DEEP, "XML exceeds the nesting limit", e);
      }
      if (message.contains("dtd") || message.contains("entity")) {
        return new CodecException(
            CodecException.MALFORMED, "XML with a DTD or entity references is refused", e);
      }
    }
    String detail =
        e instanceof JsonProcessingException j
            ? j.getOriginalMessage()
            : e.getClass().getSimpleName();
    return new CodecException(
        CodecException.MALFORMED, "not a valid " + type.getSimpleName() + " in XML: " + detail, e);
  }

  /** Configures an {@link XmlCodec}. Not thread-safe. */
  public static final class Builder {
    private int maxPayloadBytes = 1 << 20;
    private int maxDepth = 64;
    private XMLInputFactory inputFactory;

    private Builder() {}

    /** Largest payload accepted or produced; default 1 MiB. */
    public Builder maxPayloadBytes(int maxPayloadBytes) {
      this.maxPayloadBytes = Limits.positive(maxPayloadBytes, "maxPayloadBytes");
      return this;
    }

    /** Deepest element nesting; default 64. */
    public Builder maxDepth(int maxDepth) {
      this.maxDepth = Limits.positive(maxDepth, "maxDepth");
      return this;
    }

    /**
     * Parses with this StAX factory instead of Woodstox. It is hardened in place: DTD support and
     * external entities are switched off and a resolver refusing every external resource is set, so
     * any entity reference fails the parse.
     *
     * @throws IllegalArgumentException (at {@link #build()}) if the factory cannot switch them off
     */
    public Builder inputFactory(XMLInputFactory inputFactory) {
      this.inputFactory = Objects.requireNonNull(inputFactory, "inputFactory");
      return this;
    }

    public XmlCodec build() {
      XMLInputFactory in = inputFactory != null ? inputFactory : new WstxInputFactory();
      harden(in);
      XmlFactory factory =
          XmlFactory.builder()
              .xmlInputFactory(in)
              .xmlOutputFactory(new WstxOutputFactory())
              .streamReadConstraints(
                  StreamReadConstraints.builder()
                      .maxNestingDepth(maxDepth)
                      .maxDocumentLength(maxPayloadBytes)
                      .build())
              .build();
      XmlMapper mapper =
          XmlMapper.builder(factory)
              .addModule(new ParameterNamesModule())
              .addModule(new Jdk8Module())
              .addModule(new JavaTimeModule())
              .serializationInclusion(JsonInclude.Include.NON_ABSENT)
              .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
              .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
              .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
              .deactivateDefaultTyping()
              .build();
      return new XmlCodec(mapper, maxPayloadBytes);
    }

    private void harden(XMLInputFactory in) {
      set(in, XMLInputFactory.SUPPORT_DTD, false);
      set(in, XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
      // Entity references stay "replaced" so that, with no DTD, any reference is undeclared and
      // fails
      // the parse, instead of being passed over silently.
      in.setXMLResolver(
          (publicId, systemId, baseUri, namespace) -> {
            throw new javax.xml.stream.XMLStreamException("external entity refused: " + systemId);
          });
      if (in instanceof WstxInputFactory) {
        in.setProperty(WstxInputProperties.P_MAX_ELEMENT_DEPTH, maxDepth);
        in.setProperty(WstxInputProperties.P_MAX_ENTITY_COUNT, 1L);
        in.setProperty(WstxInputProperties.P_MAX_TEXT_LENGTH, maxPayloadBytes);
        in.setProperty(WstxInputProperties.P_MAX_ATTRIBUTE_SIZE, maxPayloadBytes);
      }
    }

    private static void set(XMLInputFactory in, String property, boolean value) {
      try {
        in.setProperty(property, value);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "inputFactory: "
                + in.getClass().getName()
                + " cannot set "
                + property
                + "="
                + value
                + " (expected: a StAX factory that can refuse DTDs and external entities)",
            e);
      }
      if (!Objects.equals(in.getProperty(property), value)) {
        throw new IllegalArgumentException(
            "inputFactory: " + in.getClass().getName() + " ignores " + property + "=" + value);
      }
    }
  }
}
