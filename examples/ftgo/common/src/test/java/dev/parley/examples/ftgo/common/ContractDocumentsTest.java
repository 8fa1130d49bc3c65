package dev.parley.examples.ftgo.common;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.rpc.contract.OpenApi;
import dev.parley.testing.kit.ContractTools;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The FTGO system's contract documents are generated from {@link Contracts} and committed under
 * {@code docs/contracts/}, so a change to an operation shows in review as a change to its document.
 * This test fails when the committed copy is not what the model generates; {@code
 * -Dparley.contracts.write=true} writes the new one.
 */
class ContractDocumentsTest {

  @Test
  void theCommittedOpenApiDocumentIsWhatTheModelGenerates() throws IOException {
    String generated =
        OpenApi.builder("FTGO", "1")
            .operations(Contracts.operations())
            .codecs(Codecs.of(JsonCodec.of()))
            .toJson();
    SwaggerParseResult parsed =
        new OpenAPIV3Parser().readContents(generated, null, new ParseOptions());
    assertThat(parsed.getMessages()).as("swagger-parser's messages").isEmpty();
    assertThat(parsed.getOpenAPI().getPaths())
        .containsKeys(
            "/consumers/{consumerId}/validate-order",
            "/ftgo.Accounting/AuthorizeCard",
            "/api/orders",
            "/api/orders/{orderId}");

    sameAsCommitted("ftgo-openapi.json", generated);
  }

  @Test
  void theCommittedAsyncApiDocumentIsWhatTheModelGenerates() throws IOException {
    String generated = Contracts.asyncApi().toJson();
    sameAsCommitted("ftgo-asyncapi.json", generated);
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

  private static void sameAsCommitted(String name, String generated) throws IOException {
    Path file = ContractTools.contract(name);
    if (Boolean.getBoolean("parley.contracts.write")) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, generated);
    }
    assertThat(file).as("run with -Dparley.contracts.write=true to write it").exists();
    assertThat(generated)
        .as(
            "docs/contracts/"
                + name
                + " differs from what Contracts generates; review the change, then run with"
                + " -Dparley.contracts.write=true to commit the new document")
        .isEqualTo(Files.readString(file));
  }
}
