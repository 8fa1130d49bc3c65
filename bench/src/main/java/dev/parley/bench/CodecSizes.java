package dev.parley.bench;

import dev.parley.codec.Codec;
import dev.parley.codec.avro.AvroCodec;
import dev.parley.codec.avro.AvroFixtures;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.protobuf.ProtobufCodec;
import dev.parley.codec.protobuf.ProtobufFixtures;
import dev.parley.codec.protobuf.ProtobufJsonCodec;
import dev.parley.codec.thrift.ThriftCodec;
import dev.parley.codec.thrift.ThriftFixtures;
import dev.parley.codec.xml.XmlCodec;
import dev.parley.testing.tck.CodecFixtures;
import dev.parley.testing.tck.CodecTck.Fixtures;
import java.util.List;

/** Prints a Markdown table of encoded bytes per fixture for every codec. */
public final class CodecSizes {

  private record Row(String name, Codec codec, Fixtures fixtures) {}

  private CodecSizes() {}

  public static void main(String[] args) {
    System.out.print(table());
  }

  /** The table as Markdown. */
  public static String table() {
    List<Row> rows =
        List.of(
            new Row("JSON (Jackson)", JsonCodec.of(), CodecFixtures.plainJava()),
            new Row("XML (Jackson XML)", XmlCodec.of(), CodecFixtures.plainJava()),
            new Row("Protobuf binary", ProtobufCodec.of(), ProtobufFixtures.all()),
            new Row("Protobuf JSON mapping", ProtobufJsonCodec.of(), ProtobufFixtures.all()),
            new Row("Avro single-object", AvroCodec.of(), AvroFixtures.all()),
            new Row("Thrift binary", ThriftCodec.binary(), ThriftFixtures.all()),
            new Row("Thrift compact", ThriftCodec.compact(), ThriftFixtures.all()));
    StringBuilder out = new StringBuilder();
    out.append(
        "| codec | small | medium | nested | collections | optional absent | timestamps | unicode |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      Fixtures f = r.fixtures();
      out.append(
          String.format(
              java.util.Locale.ROOT,
              "| %s | %d | %d | %d | %d | %d | %d | %d |%n",
              r.name(),
              size(r, f.small()),
              size(r, f.medium()),
              size(r, f.nested()),
              size(r, f.collections()),
              size(r, f.optionalAbsent()),
              size(r, f.timestamps()),
              size(r, f.unicode())));
    }
    return out.toString();
  }

  private static int size(Row r, Object value) {
    return r.codec().encode(value).length;
  }
}
