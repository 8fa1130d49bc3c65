package dev.parley.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

  private static String header(String mode) {
    return "# The IPC lab\n\nWritten by `bench/lab --full` on 2026-12-05: "
        + mode
        + " mode, 37.0 minutes, 2 CPUs as Java sees them.\n";
  }

  /** A lab.md as the lab wrote it before the previous-run column existed. */
  private static final String OLD =
      header("full")
          + "\n## Goals missed in this run\n\n| pair | goal | measured | cause found |\n"
          + "|---|---|---|---|\n| rr | ≥ 0.90 | 0.87 (0.73–1.00) | the wire |\n"
          + "\n## Every ratio goal of BENCHMARKS.md\n\n"
          + "| pair | goal | measured (median, min–max) | met |\n|---|---|---|---|\n"
          + "| rr | ≥ 0.90 | 0.87 (0.73–1.00) | **no** |\n"
          + "| events | ≥ 0.90 | 0.95 (0.90–1.00) | yes |\n"
          + "| p50 | ≤ +50 µs | +119 µs (+19 µs–+177 µs) | **no** |\n"
          + "\n## Formats\n\n| a | b |\n|---|---|\n| x | y |\n";

  @Test
  void readsWhatAnEarlierLabMdSaidOfEachGoal() {
    Report.Previous p = Report.previous(OLD);

    assertThat(p.written()).isEqualTo("2026-12-05");
    assertThat(p.mode()).isEqualTo("full");
    assertThat(p.met())
        .containsExactly(
            java.util.Map.entry("rr", false),
            java.util.Map.entry("events", true),
            java.util.Map.entry("p50", false));
    assertThat(p.measured()).containsEntry("p50", "+119 µs (+19 µs–+177 µs)");
    assertThat(Report.previous("# not a lab report\n")).isNull();
  }

  @Test
  void eachGoalStandsBesideThePreviousRunsVerdict(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("lab.md"), OLD, StandardCharsets.UTF_8);
    Report report = new Report(dir);
    report.goal("rr", "≥ 0.90", "0.84 (0.62–0.86)", false, "the wire");
    report.goal("events", "≥ 0.90", "0.85 (0.80–0.90)", false, "lines");
    report.goal("p50", "≤ +50 µs", "+43 µs (-79 µs–+129 µs)", true, "-");
    report.goal("new", "≥ 1.00", "1.10 (1.00–1.20)", true, "-");

    String md = Files.readString(report.write(header("full")), StandardCharsets.UTF_8);

    assertThat(md)
        .contains("1 of these 2 goals were missed there too, 1 were met there, and 1 goals met")
        .contains("| rr | ≥ 0.90 | 0.84 (0.62–0.86) | missed, 0.87 (0.73–1.00) | the wire |")
        .contains("| events | ≥ 0.90 | 0.85 (0.80–0.90) | met, 0.95 (0.90–1.00) | lines |")
        .contains("| p50 | ≤ +50 µs | +43 µs (-79 µs–+129 µs) | yes | **no** |")
        .contains("| new | ≥ 1.00 | 1.10 (1.00–1.20) | yes | — |");
    // and the file it wrote is read the same way by the next run
    assertThat(Report.previous(md).met())
        .containsEntry("rr", false)
        .containsEntry("events", false)
        .containsEntry("p50", true);
  }

  @Test
  void aRunOfTheOtherModeIsNotComparedWith(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("lab.md"), OLD, StandardCharsets.UTF_8);
    Report report = new Report(dir);
    report.goal("rr", "≥ 0.90", "0.84 (0.62–0.86)", false, "the wire");

    String md = Files.readString(report.write(header("quick")), StandardCharsets.UTF_8);

    assertThat(md)
        .contains("The lab.md this run replaced (2026-12-05) was of full mode: not compared.")
        .contains("| rr | ≥ 0.90 | 0.84 (0.62–0.86) | — | the wire |");
  }
}
