package dev.parley.codec.avro;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * Checks a new Avro schema against the old one, as Avro's resolution rules define:
 *
 * <ul>
 *   <li>{@link Mode#BACKWARD}: consumers on the new schema read data written with the old one;
 *   <li>{@link Mode#FORWARD}: consumers still on the old schema read data written with the new one;
 *   <li>{@link Mode#FULL}: both.
 * </ul>
 *
 * <pre>
 * java -cp ... dev.parley.codec.avro.AvroCompatibility --mode full old.avsc new.avsc
 * </pre>
 */
public final class AvroCompatibility {

  /** Which direction must work. */
  public enum Mode {
    BACKWARD,
    FORWARD,
    FULL
  }

  private AvroCompatibility() {}

  /** The problems of {@code newer} against {@code older} in {@code mode}; empty when compatible. */
  public static List<String> check(Schema older, Schema newer, Mode mode) {
    List<String> problems = new ArrayList<>();
    if (mode != Mode.FORWARD) {
      add(
          problems,
          "backward (new reads old)",
          SchemaCompatibility.checkReaderWriterCompatibility(newer, older));
    }
    if (mode != Mode.BACKWARD) {
      add(
          problems,
          "forward (old reads new)",
          SchemaCompatibility.checkReaderWriterCompatibility(older, newer));
    }
    return problems;
  }

  private static void add(
      List<String> problems, String direction, SchemaCompatibility.SchemaPairCompatibility result) {
    if (result.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      problems.add(direction + ": " + describe(result));
    }
  }

  static String describe(SchemaCompatibility.SchemaPairCompatibility result) {
    List<String> parts = new ArrayList<>();
    for (SchemaCompatibility.Incompatibility i : result.getResult().getIncompatibilities()) {
      parts.add(
          i.getType().name().toLowerCase(Locale.ROOT).replace('_', ' ')
              + " "
              + i.getMessage()
              + " at "
              + fieldPath(result.getReader(), i.getLocation()));
    }
    return parts.isEmpty() ? result.getDescription() : String.join("; ", parts);
  }

  /**
   * Turns a JSON pointer into the reader schema ({@code /fields/1/type}) into field names ({@code
   * quantity}).
   */
  static String fieldPath(Schema reader, String pointer) {
    List<String> names = new ArrayList<>();
    Schema current = reader;
    String[] tokens = pointer.split("/");
    for (int i = 0; i < tokens.length; i++) {
      String token = tokens[i];
      if (token.equals("fields")
          && i + 1 < tokens.length
          && current.getType() == Schema.Type.RECORD) {
        try {
          Schema.Field field = current.getFields().get(Integer.parseInt(tokens[++i]));
          names.add(field.name());
          current = field.schema();
        } catch (RuntimeException e) {
          return pointer;
        }
      } else if (token.equals("items") && current.getType() == Schema.Type.ARRAY) {
        current = current.getElementType();
      } else if (token.equals("values") && current.getType() == Schema.Type.MAP) {
        current = current.getValueType();
      }
    }
    return names.isEmpty() ? pointer : "field " + String.join(".", names) + " (" + pointer + ")";
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  /** {@code --mode backward|forward|full OLD.avsc NEW.avsc}: 0 compatible, 1 not, 2 bad use. */
  public static int run(String[] args, PrintStream out) {
    if (args.length != 4 || !args[0].equals("--mode")) {
      out.println("usage: AvroCompatibility --mode backward|forward|full OLD.avsc NEW.avsc");
      return 2;
    }
    try {
      Mode mode = Mode.valueOf(args[1].toUpperCase(Locale.ROOT));
      Schema older = new Schema.Parser().parse(Path.of(args[2]).toFile());
      Schema newer = new Schema.Parser().parse(Path.of(args[3]).toFile());
      List<String> problems = check(older, newer, mode);
      problems.forEach(out::println);
      out.println(
          problems.isEmpty()
              ? "compatible (" + mode.name().toLowerCase(Locale.ROOT) + ")"
              : "incompatible");
      return problems.isEmpty() ? 0 : 1;
    } catch (IllegalArgumentException | IOException | org.apache.avro.SchemaParseException e) {
      out.println("cannot check: " + e.getMessage());
      return 2;
    }
  }
}
