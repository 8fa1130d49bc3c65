package dev.parley.transport.spi;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps credentials out of messages (RELIABILITY.md S7): every exception, log line and description
 * that names a broker prints its URI through {@link #uri}, and text that may quote a URI (a client
 * library's or {@code java.net.URI}'s own message) goes through {@link #text} first.
 */
public final class Redaction {

  /** What a password is printed as. */
  public static final String MASK = "****";

  /**
   * {@code scheme://user:password@}: the user-info of anything written like a URI. The password
   * runs to the last {@code @} before the next {@code ://}, so an unencoded {@code @} or blank in
   * it is masked too (at worst more than the password is).
   */
  private static final Pattern USER_INFO =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\\s:]*):((?:(?!://).)*)@");

  private Redaction() {}

  /** The URI with its password, if any, replaced by {@value #MASK}. */
  public static String uri(URI uri) {
    return uri == null ? "null" : text(uri.toString());
  }

  /**
   * The text with the password of every {@code scheme://user:password@} in it replaced by {@value
   * #MASK}; for a string that is not a valid URI too (an unencoded space, a stray {@code %}).
   */
  public static String text(String text) {
    if (text == null) {
      return null;
    }
    Matcher m = USER_INFO.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(
          out, Matcher.quoteReplacement(m.group(1) + m.group(2) + ":" + MASK + "@"));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * The text with every occurrence of {@code uri}'s password — as written and decoded — replaced by
   * {@value #MASK}, for a message a client library wrote about the URI in its own words.
   */
  public static String text(String text, URI uri) {
    String redacted = text(text);
    if (redacted == null || uri == null || uri.getRawUserInfo() == null) {
      return redacted;
    }
    String info = uri.getRawUserInfo();
    int colon = info.indexOf(':');
    if (colon < 0 || colon == info.length() - 1) {
      return redacted;
    }
    String raw = info.substring(colon + 1);
    redacted = redacted.replace(raw, MASK);
    try {
      String decoded = URLDecoder.decode(raw, StandardCharsets.UTF_8);
      if (!decoded.isEmpty()) {
        redacted = redacted.replace(decoded, MASK);
      }
    } catch (IllegalArgumentException e) {
      // not decodable: the raw form is all there is
    }
    return redacted;
  }
}
