package dev.parley.testing.kit;

import java.time.Duration;
import java.util.Objects;

/**
 * A network fault a {@link FaultProxy} applies to the bytes it forwards, after Toxiproxy's toxics.
 * Each applies in one {@link Direction} (or both).
 */
public sealed interface Toxic {

  /** Which way the bytes flow: client → server is upstream. */
  enum Direction {
    UPSTREAM,
    DOWNSTREAM,
    BOTH;

    boolean includes(Direction d) {
      return this == BOTH || this == d;
    }
  }

  Direction direction();

  /** Delays every chunk by {@code delay}. */
  record Latency(Direction direction, Duration delay) implements Toxic {}

  /** Limits throughput to {@code bytesPerSecond}. */
  record Bandwidth(Direction direction, long bytesPerSecond) implements Toxic {}

  /** Writes chunks in slices of {@code sliceBytes}, waiting {@code pause} between them. */
  record Slicer(Direction direction, int sliceBytes, Duration pause) implements Toxic {}

  /** Closes the connection once {@code bytes} have passed in this direction. */
  record LimitData(Direction direction, long bytes) implements Toxic {}

  /** Swallows all data (a blackhole); the connection stays open. */
  record Timeout(Direction direction) implements Toxic {}

  /**
   * Stops reading in this direction until the toxic is removed (then passes everything on, in
   * order): the sender's socket buffers fill and its writes block, as with a peer that no longer
   * reads (a broker under a resource alarm, a hung process). The connection stays open.
   */
  record Stall(Direction direction) implements Toxic {}

  /**
   * Toxiproxy's reset_peer: when data next flows this way, waits {@code timeout} (zero: at once),
   * drops it and resets the connection (TCP RST to both sides).
   */
  record ResetPeer(Direction direction, Duration timeout) implements Toxic {}

  /** Waits {@code delay} before passing on a close. */
  record SlowClose(Direction direction, Duration delay) implements Toxic {}

  static Latency latency(Direction direction, Duration delay) {
    return new Latency(direction, Objects.requireNonNull(delay, "delay"));
  }

  static Bandwidth bandwidth(Direction direction, long bytesPerSecond) {
    if (bytesPerSecond < 1) {
      throw new IllegalArgumentException("bytesPerSecond: " + bytesPerSecond + " (expected: > 0)");
    }
    return new Bandwidth(direction, bytesPerSecond);
  }

  static Slicer slicer(Direction direction, int sliceBytes, Duration pause) {
    if (sliceBytes < 1) {
      throw new IllegalArgumentException("sliceBytes: " + sliceBytes + " (expected: > 0)");
    }
    return new Slicer(direction, sliceBytes, Objects.requireNonNull(pause, "pause"));
  }

  static LimitData limitData(Direction direction, long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes: " + bytes + " (expected: >= 0)");
    }
    return new LimitData(direction, bytes);
  }

  static Timeout timeout(Direction direction) {
    return new Timeout(direction);
  }

  static Stall stall(Direction direction) {
    return new Stall(direction);
  }

  static ResetPeer resetPeer(Direction direction, Duration timeout) {
    return new ResetPeer(direction, Objects.requireNonNull(timeout, "timeout"));
  }

  static SlowClose slowClose(Direction direction, Duration delay) {
    return new SlowClose(direction, Objects.requireNonNull(delay, "delay"));
  }
}
