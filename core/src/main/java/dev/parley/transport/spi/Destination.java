package dev.parley.transport.spi;

import java.util.Objects;

/**
 * Where a transport sends to or consumes from. Queue names are derived here, in one place, so every
 * transport names its queues alike (see {@code docs/wire.md}):
 *
 * <ul>
 *   <li>{@link Event}: an event channel; a send reaches every subscriber group's queue;
 *   <li>{@link GroupQueue}: one subscriber group's queue on an event channel, named {@code
 *       <channel>.<group>}; a send reaches only that group;
 *   <li>{@link Queue}: a point-to-point queue: a command channel, a reply channel, a dead-letter
 *       channel.
 * </ul>
 */
public sealed interface Destination {

  /** Suffix of the dead-letter queue of a queue. */
  String DEAD_LETTER_SUFFIX = ".dlq";

  /** The channel name: the event channel, or the queue's own name. */
  String channel();

  /** The dead-letter queue for messages consumed from this destination. */
  Queue deadLetter();

  /** An event channel: publish/subscribe. */
  record Event(String channel) implements Destination {
    public Event {
      requireName(channel, "channel");
    }

    @Override
    public Queue deadLetter() {
      throw new UnsupportedOperationException("an event channel is not consumed; a group queue is");
    }
  }

  /** The queue of one subscriber group on an event channel. */
  record GroupQueue(String channel, String group) implements Destination {
    public GroupQueue {
      requireName(channel, "channel");
      requireName(group, "group");
    }

    /** The queue name, {@code <channel>.<group>}. */
    public String queueName() {
      return channel + "." + group;
    }

    @Override
    public Queue deadLetter() {
      return new Queue(queueName() + DEAD_LETTER_SUFFIX);
    }
  }

  /** A point-to-point queue. */
  record Queue(String name) implements Destination {
    public Queue {
      requireName(name, "name");
    }

    @Override
    public String channel() {
      return name;
    }

    @Override
    public Queue deadLetter() {
      return new Queue(name + DEAD_LETTER_SUFFIX);
    }
  }

  private static void requireName(String name, String what) {
    Objects.requireNonNull(name, what);
    if (!dev.parley.internal.Names.isValid(name)) {
      throw new IllegalArgumentException(
          what + ": '" + name + "' (expected: non-blank, no whitespace, no '::')");
    }
  }
}
