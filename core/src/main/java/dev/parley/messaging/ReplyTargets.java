package dev.parley.messaging;

import dev.parley.transport.spi.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where a responder may send replies (RELIABILITY.md S6): a request's {@code parley-reply-to} is a
 * queue name the sender chose, so without a limit a sender could aim replies — and failure replies
 * — at another service's command queue, a dead-letter queue or a group's queue. A reply goes only
 * to a Parley reply queue ({@value #PARLEY_REPLIES}), to the broker's own reply mechanism ({@link
 * Transport#isNativeReplyAddress}: RabbitMQ's direct reply-to and server-named queues), or to a
 * name matching a pattern the service allowed ({@link MessagingBuilder#allowReplyTo}). A request
 * naming anything else is dead-lettered once with {@link #NOT_ALLOWED}; its handler does not run.
 */
final class ReplyTargets {

  /** Error code of a request whose reply address is not allowed. */
  static final String NOT_ALLOWED = "parley.reply_to.not_allowed";

  /** The pattern of the reply queues Parley's own callers use. */
  static final String PARLEY_REPLIES = "parley.reply.*";

  private final Transport transport;
  private final List<String> patterns;
  private final List<Glob> compiled = new ArrayList<>();

  ReplyTargets(Transport transport, List<String> allowed) {
    this.transport = Objects.requireNonNull(transport, "transport");
    List<String> all = new ArrayList<>();
    all.add(PARLEY_REPLIES);
    all.addAll(allowed);
    this.patterns = List.copyOf(all);
    for (String p : patterns) {
      compiled.add(glob(p));
    }
  }

  /** Only Parley's reply queues and the transport's own reply mechanism. */
  static ReplyTargets defaults(Transport transport) {
    return new ReplyTargets(transport, List.of());
  }

  /** Whether {@code queue} is the broker's own reply mechanism (no allow-list entry needed). */
  boolean isNative(String queue) {
    return transport.isNativeReplyAddress(queue);
  }

  boolean allows(String queue) {
    if (isNative(queue)) {
      return true;
    }
    for (Glob p : compiled) {
      if (p.matches(queue)) {
        return true;
      }
    }
    return false;
  }

  /** The allowed patterns, e.g. {@code parley.reply.*, my.replies.*} (for describe()). */
  String describe() {
    return String.join(", ", patterns);
  }

  /** {@code *} matches any characters (none included); everything else matches itself. */
  static Glob glob(String pattern) {
    if (pattern == null || pattern.isBlank() || pattern.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(
          "reply-to pattern: '" + pattern + "' (expected: a queue name, '*' for any characters)");
    }
    return new Glob(pattern.split("\\*", -1));
  }

  /**
   * A pattern split at its {@code *}s, matched without a regular expression (checked on every
   * request): the first part is a prefix, the last a suffix, the ones between appear in order.
   */
  record Glob(String[] parts) {
    boolean matches(String s) {
      if (parts.length == 1) {
        return s.equals(parts[0]);
      }
      String first = parts[0];
      String last = parts[parts.length - 1];
      if (s.length() < first.length() + last.length()
          || !s.startsWith(first)
          || !s.endsWith(last)) {
        return false;
      }
      int from = first.length();
      int end = s.length() - last.length();
      for (int i = 1; i < parts.length - 1; i++) {
        int at = s.indexOf(parts[i], from);
        if (at < 0 || at + parts[i].length() > end) {
          return false;
        }
        from = at + parts[i].length();
      }
      return true;
    }
  }
}
