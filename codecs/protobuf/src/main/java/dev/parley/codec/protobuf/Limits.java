package dev.parley.codec.protobuf;

final class Limits {

  private Limits() {}

  static int positive(int value, String name) {
    if (value < 1) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
    return value;
  }
}
