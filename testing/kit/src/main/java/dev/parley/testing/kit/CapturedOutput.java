package dev.parley.testing.kit;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Keeps everything written to {@code System.out} and {@code System.err} (the logs of slf4j-simple,
 * which looks the streams up on each write, included) until closed, then puts the streams back and
 * writes what it kept to the real {@code System.out}, so the test report still has it.
 *
 * <pre>{@code
 * try (CapturedOutput output = CapturedOutput.start()) {
 *   ...
 *   assertThat(output.text()).doesNotContain(secret);
 * }
 * }</pre>
 */
public final class CapturedOutput implements AutoCloseable {

  private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
  private final PrintStream out = System.out;
  private final PrintStream err = System.err;
  private boolean closed;

  private CapturedOutput() {
    PrintStream tee = new PrintStream(kept, true, StandardCharsets.UTF_8);
    System.setOut(tee);
    System.setErr(tee);
  }

  public static CapturedOutput start() {
    return new CapturedOutput();
  }

  /** What was written so far. */
  public synchronized String text() {
    return kept.toString(StandardCharsets.UTF_8);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    System.setOut(out);
    System.setErr(err);
    out.print(text());
  }
}
