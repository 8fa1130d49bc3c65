package dev.parley.codec.avro;

import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.io.ResolvingDecoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;

/** A reader that refuses records nested deeper than a limit. One per decode; not thread-safe. */
final class DepthLimitedReader<T> extends SpecificDatumReader<T> {

  /** Thrown when the nesting limit is passed. */
  static final class TooDeep extends IOException {
    private static final long serialVersionUID = 1L;

    TooDeep(int max) {
      super("records nest deeper than " + max);
    }
  }

  private final int maxDepth;
  private int depth;

  DepthLimitedReader(Schema writer, Schema reader, SpecificData data, int maxDepth) {
    super(writer, reader, data);
    this.maxDepth = maxDepth;
  }

  @Override
  protected Object readRecord(Object old, Schema expected, ResolvingDecoder in) throws IOException {
    if (++depth > maxDepth) {
      throw new TooDeep(maxDepth);
    }
    try {
      return super.readRecord(old, expected, in);
    } finally {
      depth--;
    }
  }
}
