package dev.parley.internal;

/**
 * The one rule for channel, group and queue names, checked on every request's reply address and
 * every call's channel: a plain loop over the characters, no stream or regular expression.
 */
public final class Names {

  private Names() {}

  /** Whether {@code name} is non-blank, has no whitespace and no {@code ::}. */
  public static boolean isValid(String name) {
    if (name.isEmpty()) {
      return false;
    }
    char previous = 0;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isWhitespace(c) || (c == ':' && previous == ':')) {
        return false;
      }
      previous = c;
    }
    return true;
  }
}
