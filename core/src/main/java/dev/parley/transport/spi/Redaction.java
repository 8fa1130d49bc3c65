package dev.parley.transport.spi;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps credentials out of messages (RELIABILITY.md S7): every exception, log line and description
 * that names a broker prints its URI through {@link #uri}, and text that may quote a URI or a
 * secret (a client library's or {@code java.net.URI}'s own message, a handler's exception on its
 * way to a dead letter's headers or the log) goes through {@link #text} first.
 *
 * <p>Besides a URI's password, {@link #text} masks what a person or a library writes as a secret in
 * prose, as Spring Boot's sanitizer does for its keys: the value after a key that names one ({@code
 * password=…}, {@code db.password: …}, {@code "apiKey":"…"}, {@code client_secret=…}, {@code
 * access_token=…}; see {@link #SECRET_WORDS}) and the credentials after {@code Bearer} or {@code
 * Basic}. A secret written with no such key before it cannot be told from other text and stays as
 * it is.
 */
public final class Redaction {

  /** What a password is printed as. */
  public static final String MASK = "****";

  /**
   * {@code scheme://user:password@}: the user-info of anything written like a URI. The password
   * runs to the last {@code @} before the next {@code ://}, so an unencoded {@code @} or blank in
   * it is masked too (at worst more than the password is); within 1,024 characters, and the scheme
   * starts a word, so that text without a URI costs one scan (a long word scanned from each of its
   * characters was quadratic: 400,000 characters took minutes).
   */
  private static final Pattern USER_INFO =
      Pattern.compile(
          "(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\\s:]*):((?:(?!://).){0,1024})@");

  /**
   * A key, then {@code =} or {@code :} (a JSON key's closing quote allowed); its value follows
   * (quoted, or up to the next blank or separator: {@link #valueEnd}). Whether the key names a
   * secret is {@link #secretKey}'s to say. The key starts a word and the value is read only after a
   * secret's key, so text costs one scan, however long its words.
   */
  private static final Pattern KEY = Pattern.compile("(?<![\\w.-])([\\w.-]+)(\"?\\s*[=:]\\s*)");

  /** What ends an unquoted value besides a blank. */
  private static final String VALUE_END = ",;&\"'<>()[]{}";

  /** Words a key names a secret with: {@code password}, {@code dbPassword}, {@code x-api-key}. */
  private static final String[] SECRET_WORDS = {
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "access-key",
    "privatekey",
    "private_key",
    "private-key",
    "credential",
    "authorization"
  };

  /**
   * HTTP's credentials after their scheme: a token of at least 8 characters with a digit or one of
   * {@code +/=._~-} in it (a JWT, base64), so that prose such as "Basic authentication" stays.
   */
  private static final Pattern AUTH_SCHEME =
      Pattern.compile(
          "(?i)(?<![\\w.-])(Bearer|Basic)(\\s+)(?=[A-Za-z0-9._~+/-]*[0-9._~+/=-])"
              + "[A-Za-z0-9._~+/-]{8,}=*");

  private Redaction() {}

  /** The URI with its password, if any, replaced by {@value #MASK}. */
  public static String uri(URI uri) {
    return uri == null ? "null" : text(uri.toString());
  }

  /**
   * {@link #text(String)} cut to at most {@code max} characters (then followed by {@code ...}): an
   * error text for a log line or a dead letter's headers.
   */
  public static String excerpt(String text, int max) {
    String redacted = text(text);
    return redacted == null || redacted.length() <= max
        ? redacted
        : redacted.substring(0, max) + "...";
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
    return secrets(out.toString());
  }

  /** {@code text} with the credentials of HTTP schemes and the values of secret keys masked. */
  private static String secrets(String text) {
    String in = AUTH_SCHEME.matcher(text).replaceAll("$1$2" + Matcher.quoteReplacement(MASK));
    Matcher m = KEY.matcher(in);
    StringBuilder out = new StringBuilder();
    int copied = 0;
    int pos = 0;
    while (pos < in.length() && m.find(pos)) {
      pos = m.end();
      if (pos == in.length() || !secretKey(m.group(1))) {
        continue; // its value may hold a secret's key ("k:password=x"): look on from there
      }
      int end = valueEnd(in, pos);
      char first = in.charAt(pos);
      boolean quoted = first == '"' || first == '\'';
      if (end == pos) {
        continue; // no value ("password=, retrying")
      }
      out.append(in, copied, pos);
      out.append(quoted ? first + MASK + first : MASK);
      copied = end;
      pos = end;
    }
    out.append(in, copied, in.length());
    return out.toString();
  }

  /**
   * Where the value starting at {@code start} ends: after its closing quote (or at the end of the
   * text, a quote left open), else at the first blank or separator.
   */
  private static int valueEnd(String text, int start) {
    char first = text.charAt(start);
    if (first == '"' || first == '\'') {
      int close = text.indexOf(first, start + 1);
      return close < 0 ? text.length() : close + 1;
    }
    int i = start;
    while (i < text.length()
        && VALUE_END.indexOf(text.charAt(i)) < 0
        && !Character.isWhitespace(text.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean secretKey(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    for (String word : SECRET_WORDS) {
      if (k.contains(word)) {
        return true;
      }
    }
    return false;
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
