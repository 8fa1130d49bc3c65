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

  /**
   * {@code failure} for a log line: when a message in it or its causes quotes a URI with a
   * password, a copy with the same class name, stack traces and causes whose messages are masked;
   * otherwise {@code failure} itself.
   */
  public static Throwable throwable(Throwable failure) {
    if (failure == null || !leaks(failure, 0)) {
      return failure;
    }
    return copy(failure, 0);
  }

  private static boolean leaks(Throwable t, int depth) {
    if (t == null || depth > 10) {
      return false;
    }
    String m = t.getMessage();
    return (m != null && !m.equals(text(m))) || leaks(t.getCause(), depth + 1);
  }

  private static Throwable copy(Throwable t, int depth) {
    Throwable cause = t.getCause() == null || depth > 10 ? null : copy(t.getCause(), depth + 1);
    Redacted copy = new Redacted(t.getClass().getName(), text(t.getMessage()), cause);
    copy.setStackTrace(t.getStackTrace());
    return copy;
  }

  /** A redacted copy of an exception: prints as the original class with the masked message. */
  private static final class Redacted extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String className;

    Redacted(String className, String message, Throwable cause) {
      super(message, cause, false, true);
      this.className = className;
    }

    @Override
    public String toString() {
      String m = getMessage();
      return m == null ? className : className + ": " + m;
    }
  }
}
