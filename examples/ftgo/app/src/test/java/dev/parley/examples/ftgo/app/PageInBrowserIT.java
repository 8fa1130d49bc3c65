package dev.parley.examples.ftgo.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The FTGO page in a real headless browser: Debian's Chromium driven by playwright-core ({@code
 * examples/ftgo/browser/page-test.mjs}; {@code .ci/browser-setup} installs both). It places an
 * order that is approved step by step and one that is rejected, and keeps a screenshot in {@code
 * target/ftgo-page.png} (the one in {@code docs/} came from here).
 */
class PageInBrowserIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Test
  void placesOrdersOnThePageInHeadlessChromium() throws Exception {
    Path browser = Path.of("..", "browser").toAbsolutePath().normalize();
    assertThat(browser.resolve("node_modules/playwright-core"))
        .as("playwright-core: run .ci/browser-setup")
        .isDirectory();
    assertThat(Path.of("/usr/bin/chromium")).as("Chromium: run .ci/browser-setup").exists();
    Path screenshot = Path.of("target", "ftgo-page.png").toAbsolutePath();
    Path log = Path.of("target", "page-test.log").toAbsolutePath();
    System.setProperty("ftgo.broker.url", broker.amqpUri().toString());
    try (FtgoApp app = FtgoApp.start(0)) {
      Process node =
          new ProcessBuilder(
                  "node",
                  "page-test.mjs",
                  "http://127.0.0.1:" + app.port() + "/",
                  screenshot.toString())
              .directory(browser.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      boolean finished = node.waitFor(120, TimeUnit.SECONDS);
      if (!finished) {
        node.destroyForcibly();
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);

      assertThat(finished).as("the page test finished within 120 s").isTrue();
      assertThat(node.exitValue()).as(output).isZero();
      assertThat(output).contains("page test passed");
      assertThat(new File(screenshot.toString())).isFile().isNotEmpty();
    } finally {
      System.clearProperty("ftgo.broker.url");
    }
  }
}
