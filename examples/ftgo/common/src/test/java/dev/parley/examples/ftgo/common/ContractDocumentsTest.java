package dev.parley.examples.ftgo.common;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.testing.kit.ContractTools;
import dev.parley.tools.Parley;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The FTGO system's contract documents are generated from {@link Contracts} by the {@code parley
 * contracts} command and committed under {@code docs/contracts/}, so a change to an operation shows
 * in review as a change to its document. This test fails when the committed copy is not what the
 * model generates; {@code -Dparley.contracts.write=true} writes the new one. CI gates a change with
 * {@code parley check docs/contracts <freshly generated>} (the last test).
 */
class ContractDocumentsTest {

  private static final Path GENERATED = Path.of("target", "contracts").toAbsolutePath();

  @BeforeAll
  static void generate() {
    String output =
        parley(
            0,
            "contracts",
            "--model",
            Contracts.class.getName(),
            "--name",
            "ftgo",
            "--title",
            "FTGO",
            "--api-version",
            "1",
            "--out",
            GENERATED.toString());
    assertThat(output).contains("wrote");
  }

  @Test
  void theCommittedOpenApiDocumentIsWhatTheModelGenerates() throws IOException {
    String generated = Files.readString(GENERATED.resolve("ftgo-openapi.json"));
    SwaggerParseResult parsed =
        new OpenAPIV3Parser().readContents(generated, null, new ParseOptions());
    assertThat(parsed.getMessages()).as("swagger-parser's messages").isEmpty();
    assertThat(parsed.getOpenAPI().getPaths())
        .containsKeys(
            "/consumers/{consumerId}/validate-order",
            "/ftgo.Accounting/AuthorizeCard",
            "/api/orders",
            "/api/orders/{orderId}");

    sameAsCommitted("ftgo-openapi.json");
  }

  @Test
  void theCommittedAsyncApiDocumentIsWhatTheModelGenerates() throws IOException {
    assertThat(Files.readString(GENERATED.resolve("ftgo-asyncapi.json")))
        .isEqualTo(Contracts.asyncApi().toJson());
    sameAsCommitted("ftgo-asyncapi.json");
  }

  @Test
  void theCommittedProtoFilesAreWhatTheModelGenerates() throws IOException {
    assertThat(Files.readString(GENERATED.resolve("proto/ftgo.proto")))
        .contains(
            "service Accounting {\n  rpc AuthorizeCard(AuthorizeCard) returns (Authorization);");
    sameAsCommitted("proto/ftgo.proto");
    sameAsCommitted("proto/parley.proto");
    sameAsCommitted("ftgo-proto.binpb");
  }

  /**
   * The AsyncAPI initiative's own parser (npm {@code @asyncapi/parser}, installed by {@code
   * .ci/contracts-setup}) reads the committed document without an error. Skipped only where npm and
   * that install are absent (the skip says so).
   */
  @Test
  void theAsyncApiParserAcceptsTheDocument() throws Exception {
    ContractTools.Run run =
        ContractTools.validateAsyncApi(ContractTools.contract("ftgo-asyncapi.json"));
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).contains("VALID: AsyncAPI 3.0.0");
  }

  /** The gate CI runs: the committed contracts against what the model generates now. */
  @Test
  void parleyCheckPassesTheModelAgainstTheCommittedBaseline() {
    String output =
        parley(
            0,
            "check",
            "--mode",
            "full",
            ContractTools.contract("").toString(),
            GENERATED.toString());
    assertThat(output).contains("compatible (full), 3 contract(s)");
  }

  private static String parley(int expectedExit, String... args) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    int code = Parley.run(args, new PrintStream(buffer, true, StandardCharsets.UTF_8));
    String output = buffer.toString(StandardCharsets.UTF_8);
    assertThat(code).as(String.join(" ", List.of(args)) + "\n" + output).isEqualTo(expectedExit);
    return output;
  }

  private static void sameAsCommitted(String name) throws IOException {
    Path file = ContractTools.contract(name);
    byte[] generated = Files.readAllBytes(GENERATED.resolve(name));
    if (Boolean.getBoolean("parley.contracts.write")) {
      Files.createDirectories(file.getParent());
      Files.write(file, generated);
    }
    assertThat(file).as("run with -Dparley.contracts.write=true to write it").exists();
    assertThat(generated)
        .as(
            "docs/contracts/"
                + name
                + " differs from what Contracts generates; review the change, then run with"
                + " -Dparley.contracts.write=true to commit the new document")
        .isEqualTo(Files.readAllBytes(file));
  }
}
