package dev.parley.testing.kit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The reference tools the contract cross-checks run — npm's {@code @asyncapi/parser} and {@code
 * @bufbuild/buf}, installed in {@code docs/contracts/tools} by {@code .ci/contracts-setup} — and
 * the repository's committed contract documents. A test that needs a tool that is not installed is
 * skipped, and says why.
 */
public final class ContractTools {

  /** What a tool printed (standard output and error together) and its exit code. */
  public record Run(int exitCode, String output) {}

  private ContractTools() {}

  /** The repository's root: the nearest directory up from the working directory with mvnw. */
  public static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("mvnw"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no mvnw above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  /** {@code docs/contracts/<name>}. */
  public static Path contract(String name) {
    return repositoryRoot().resolve("docs/contracts").resolve(name);
  }

  /** The tools directory; skips the calling test when {@code npmPackage} is not installed there. */
  public static Path requireTool(String npmPackage) {
    Path tools = contract("tools");
    Assumptions.assumeTrue(
        Files.isDirectory(tools.resolve("node_modules").resolve(npmPackage)),
        "skipped: "
            + npmPackage
            + " is not installed (npm absent; .ci/contracts-setup installs it)");
    return tools;
  }

  /**
   * {@code node validate-asyncapi.mjs <document>}: exit 0 and "VALID" when the parser accepts it.
   */
  public static Run validateAsyncApi(Path document) throws IOException, InterruptedException {
    Path tools = requireTool("@asyncapi/parser");
    return run(tools, "node", "validate-asyncapi.mjs", document.toString());
  }

  /**
   * {@code node <script> <args>} in the tools directory, skipped (with the reason) when {@code
   * npmPackage} is not installed there.
   */
  public static Run node(String npmPackage, String script, String... args)
      throws IOException, InterruptedException {
    Path tools = requireTool(npmPackage);
    List<String> command = new ArrayList<>(List.of("node", script));
    command.addAll(List.of(args));
    return run(tools, command.toArray(String[]::new));
  }

  /** {@code buf <args>} from the tools directory's install. */
  public static Run buf(String... args) throws IOException, InterruptedException {
    Path tools = requireTool("@bufbuild/buf");
    List<String> command = new ArrayList<>();
    command.add(tools.resolve("node_modules/.bin/buf").toString());
    command.addAll(List.of(args));
    return run(tools, command.toArray(String[]::new));
  }

  private static Run run(Path dir, String... command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + ": no answer in 120 s");
    }
    return new Run(p.exitValue(), output);
  }
}
