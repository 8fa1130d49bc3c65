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
 * Codecs codecs = Codecs.of(protobufCodec, jsonCodec); // writes protobuf, reads both
 * }</pre>
 */
public final class Codecs {

  private final Codec defaultCodec;
  private final List<Codec> all;
  private final Map<String, List<Codec>> byContentType;

  private Codecs(Codec defaultCodec, List<Codec> others) {
    this.defaultCodec = Objects.requireNonNull(defaultCodec, "defaultCodec");
    List<Codec> list = new ArrayList<>();
    list.add(defaultCodec);
    list.addAll(others);
    this.all = List.copyOf(list);
    Map<String, List<Codec>> map = new LinkedHashMap<>();
    for (Codec c : all) {
      map.computeIfAbsent(normalize(c.contentType()), k -> new ArrayList<>()).add(c);
    }
    map.replaceAll((k, v) -> List.copyOf(v));
    this.byContentType = Map.copyOf(map);
  }

  /**
   * Codecs that encode with {@code defaultCodec} (for the types it supports) and also decode the
   * content types of the others.
   */
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

  /** The content types these codecs read, without parameters, the default codec's first. */
  public java.util.Set<String> contentTypes() {
    return java.util.Collections.unmodifiableSet(
        new java.util.LinkedHashSet<>(all.stream().map(c -> normalize(c.contentType())).toList()));
  }

  /** The codec preferred for encoding. */
  public Codec defaultCodec() {
    return defaultCodec;
  }

  /**
   * The codec to encode a {@code type} with: the default codec if it supports the type, else the
   * first other codec that does.
   *
   * @throws CodecException if no codec here supports {@code type}
   */
  public Codec encoderFor(Class<?> type) {
    for (Codec c : all) {
      if (c.supports(type)) {
        return c;
      }
    }
    throw new CodecException(
        CodecException.UNENCODABLE, "no configured codec writes " + type.getName());
  }

  /**
   * The codec to decode a payload of {@code contentType} into a {@code type} (parameters such as
   * {@code charset} are ignored).
   *
   * @throws CodecException if {@code contentType} is missing or no codec here reads it into {@code
   *     type}
   */
  public Codec decoderFor(String contentType, Class<?> type) {
    if (contentType == null || contentType.isBlank()) {
      throw new CodecException(CodecException.MISSING_CONTENT_TYPE, "message has no content-type");
    }
    List<Codec> candidates = byContentType.get(contentType); // as codecs write it: no parsing
    if (candidates == null) {
      candidates = byContentType.get(normalize(contentType));
    }
    if (candidates != null) {
      for (Codec c : candidates) {
        if (c.supports(type)) {
          return c;
        }
      }
    }
    throw new CodecException(
        CodecException.UNSUPPORTED_CONTENT_TYPE,
        "content-type: "
            + sanitize(contentType)
            + " (expected one of: "
            + byContentType.keySet()
            + " for "
            + type.getSimpleName()
            + ")");
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
