package dev.parley.codec;

import dev.parley.error.BadInputException;

/**
 * A payload could not be encoded or decoded: malformed, too large, too deep, of a content type no
 * codec handles. Never retried. {@link #errorCode()} is stable, e.g. {@code
 * parley.codec.malformed}.
 */
public final class CodecException extends BadInputException {

  private static final long serialVersionUID = 1L;

  /** The payload is not well-formed for its content type. */
  public static final String MALFORMED = "parley.codec.malformed";

  /** The payload is larger than the codec's limit. */
  public static final String TOO_LARGE = "parley.codec.too_large";

  /** The payload nests deeper than the codec's limit. */
  public static final String TOO_DEEP = "parley.codec.too_deep";

  /** The payload's content type names no configured codec. */
  public static final String UNSUPPORTED_CONTENT_TYPE = "parley.codec.unsupported_content_type";

  /** The message carries no content type. */
  public static final String MISSING_CONTENT_TYPE = "parley.codec.missing_content_type";

  /** The payload names a writer schema the reader does not know (e.g. an Avro fingerprint). */
  public static final String UNKNOWN_SCHEMA = "parley.codec.unknown_schema";

  /** The writer's schema cannot be read as the reader's schema. */
  public static final String INCOMPATIBLE_SCHEMA = "parley.codec.incompatible_schema";

  /** The value cannot be written in this format. */
  public static final String UNENCODABLE = "parley.codec.unencodable";

  public CodecException(String errorCode, String message) {
    super(errorCode, message);
  }

  public CodecException(String errorCode, String message, Throwable cause) {
    super(errorCode, message, cause);
  }
}
