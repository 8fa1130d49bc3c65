package dev.parley.bench.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/** lab.md in the making: sections of Markdown, the goal rows, and the charts beside it. */
final class Report {

  /** One ratio goal of BENCHMARKS.md with what this run measured. */
  record Goal(String pair, String goal, String measured, boolean met, String cause) {}

  private final Path directory;
  private final List<String> sections = new ArrayList<>();
  private final List<Goal> goals = new ArrayList<>();
  private final List<String> charts = new ArrayList<>();

  Report(Path directory) {
    this.directory = directory;
  }

  void section(String markdown) {
    sections.add(markdown);
  }

  void goal(String pair, String goal, String measured, boolean met, String cause) {
    goals.add(new Goal(pair, goal, measured, met, cause));
  }

  List<Goal> goals() {
    return goals;
  }

  /** Writes {@code chart} as {@code lab/<name>.png} and returns the Markdown that shows it. */
  String chart(String name, Chart<?, ?> chart) {
    try {
      Path dir = directory.resolve("lab");
      Files.createDirectories(dir);
      BitmapEncoder.saveBitmap(chart, dir.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG);
      charts.add(name + ".png");
      return "![" + chart.getTitle() + "](lab/" + name + ".png)\n";
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  Path write(String header) throws IOException {
    StringBuilder md = new StringBuilder(header);
    List<Goal> missed = goals.stream().filter(g -> !g.met()).toList();
    md.append("\n## Goals missed in this run\n\n");
    md.append(
        "Judged on the unrounded median (a 0.90 shown against a goal of ≥ 0.90 may be"
            + " 0.897).\n\n");
    if (missed.isEmpty()) {
      md.append("None: every ratio goal below was met.\n");
    } else {
      md.append("| pair | goal | measured | cause found |\n|---|---|---|---|\n");
      for (Goal g : missed) {
        md.append(row(g.pair(), g.goal(), g.measured(), g.cause()));
      }
    }
    md.append("\n## Every ratio goal of BENCHMARKS.md\n\n");
    md.append("| pair | goal | measured (median, min–max) | met |\n|---|---|---|---|\n");
    for (Goal g : goals) {
      md.append(row(g.pair(), g.goal(), g.measured(), g.met() ? "yes" : "**no**"));
    }
    for (String s : sections) {
      md.append('\n').append(s);
    }
    Files.createDirectories(directory);
    Path file = directory.resolve("lab.md");
    Files.writeString(file, md.toString(), StandardCharsets.UTF_8);
    return file;
  }

  static String row(String... cells) {
    return "| " + String.join(" | ", cells) + " |\n";
  }

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  /** {@code median (min–max)} of the ratios. */
  static String spread(List<Double> values, String format) {
    return f(format, Measure.median(values))
        + " ("
        + f(format, Measure.min(values))
        + "–"
        + f(format, Measure.max(values))
        + ")";
  }
}
