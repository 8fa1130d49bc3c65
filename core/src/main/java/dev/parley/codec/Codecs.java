package dev.parley.codec;

import dev.parley.codec.spi.CodecProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * An immutable set of codecs keyed by content type, with one default used for encoding.
 * Thread-safe.
 *
 * <pre>{@code
 * Codecs codecs = Codecs.of(jsonCodec, protobufCodec); // encodes JSON, decodes either
 * }</pre>
 */
public final class Codecs {

  private final Codec defaultCodec;
  private final Map<String, Codec> byContentType;

  private Codecs(Codec defaultCodec, List<Codec> others) {
    this.defaultCodec = Objects.requireNonNull(defaultCodec, "defaultCodec");
    Map<String, Codec> map = new LinkedHashMap<>();
    map.put(normalize(defaultCodec.contentType()), defaultCodec);
    for (Codec c : others) {
      map.putIfAbsent(normalize(c.contentType()), c);
    }
    this.byContentType = Map.copyOf(map);
  }

  /** Codecs that encode with {@code defaultCodec} and also decode the content types of the others. */
  public static Codecs of(Codec defaultCodec, Codec... others) {
    return new Codecs(defaultCodec, List.of(others));
  }

  /**
   * The codecs found on the class path through {@link CodecProvider}, the highest priority one as
   * the default.
   *
   * @throws IllegalStateException if none is found, naming the artifact to add
   */
  public static Codecs discover() {
    List<CodecProvider> providers = new ArrayList<>();
    ServiceLoader.load(CodecProvider.class, Codecs.class.getClassLoader()).forEach(providers::add);
    if (providers.isEmpty()) {
      throw new IllegalStateException(
          "No Parley codec on the class path: add dev.parley:parley-codec-json "
              + "(or configure a codec explicitly)");
    }
    providers.sort(Comparator.comparingInt(CodecProvider::priority).reversed());
    List<Codec> codecs = providers.stream().map(CodecProvider::create).toList();
    return new Codecs(codecs.get(0), codecs.subList(1, codecs.size()));
  }

  /** The codec used to encode. */
  public Codec defaultCodec() {
    return defaultCodec;
  }

  /**
   * The codec for a content type (parameters such as {@code charset} are ignored).
   *
   * @throws CodecException if {@code contentType} is null or names no codec here
   */
  public Codec forContentType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      throw new CodecException(CodecException.MISSING_CONTENT_TYPE, "message has no content-type");
    }
    Codec codec = byContentType.get(normalize(contentType));
    if (codec == null) {
      throw new CodecException(
          CodecException.UNSUPPORTED_CONTENT_TYPE,
          "content-type: " + sanitize(contentType) + " (expected one of: " + byContentType.keySet() + ")");
    }
    return codec;
  }

  private static String normalize(String contentType) {
    int semicolon = contentType.indexOf(';');
    String base = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
    return base.trim().toLowerCase(Locale.ROOT);
  }

  private static String sanitize(String untrusted) {
    String s = untrusted.length() > 100 ? untrusted.substring(0, 100) + "..." : untrusted;
    return s.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
