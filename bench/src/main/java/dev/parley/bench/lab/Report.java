package dev.parley.bench.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

  /**
   * Writes lab.md, replacing the one in the directory. Each goal is shown beside what the replaced
   * file (the previous run, if of the same mode) said of it: runs of the same code disagree on
   * goals that sit near their line, so a goal missed in both runs reads differently from one that
   * flipped.
   */
  Path write(String header) throws IOException {
    Path file = directory.resolve("lab.md");
    Previous before =
        Files.exists(file) ? previous(Files.readString(file, StandardCharsets.UTF_8)) : null;
    String mode = mode(header);
    boolean compared = before != null && before.mode().equals(mode);
    Map<String, Boolean> metThen = compared ? before.met() : Map.of();
    StringBuilder md = new StringBuilder(header);
    List<Goal> missed = goals.stream().filter(g -> !g.met()).toList();
    md.append("\n## Goals missed in this run\n\n");
    md.append(
        "Judged on the unrounded median (a 0.90 shown against a goal of ≥ 0.90 may be"
            + " 0.897).");
    md.append(comparison(before, compared, missed)).append("\n\n");
    if (missed.isEmpty()) {
      md.append("None: every ratio goal below was met.\n");
    } else {
      md.append("| pair | goal | measured | previous run | cause found |\n|---|---|---|---|---|\n");
      for (Goal g : missed) {
        md.append(row(g.pair(), g.goal(), g.measured(), earlier(before, metThen, g), g.cause()));
      }
    }
    md.append("\n## Every ratio goal of BENCHMARKS.md\n\n");
    md.append(
        "| pair | goal | measured (median, min–max) | met | met in the previous run |\n"
            + "|---|---|---|---|---|\n");
    for (Goal g : goals) {
      Boolean then = metThen.get(g.pair());
      md.append(
          row(
              g.pair(),
              g.goal(),
              g.measured(),
              g.met() ? "yes" : "**no**",
              then == null ? "—" : then ? "yes" : "**no**"));
    }
    for (String s : sections) {
      md.append('\n').append(s);
    }
    Files.createDirectories(directory);
    Files.writeString(file, md.toString(), StandardCharsets.UTF_8);
    return file;
  }

  /** What a lab.md said of its goals: by pair, met or not and the measured cell. */
  record Previous(
      String written, String mode, Map<String, Boolean> met, Map<String, String> measured) {}

  private static final Pattern WRITTEN =
      Pattern.compile("Written by `[^`]*` on (\\S+): (\\w+) mode");

  private static final String EVERY_GOAL = "\n## Every ratio goal of BENCHMARKS.md\n";

  private static String mode(String header) {
    Matcher m = WRITTEN.matcher(header);
    return m.find() ? m.group(2) : "";
  }

  /** The goals of a lab.md this class wrote; null if it has none this can read. */
  static Previous previous(String markdown) {
    Matcher m = WRITTEN.matcher(markdown);
    int table = markdown.indexOf(EVERY_GOAL);
    if (!m.find() || table < 0) {
      return null;
    }
    Map<String, Boolean> met = new LinkedHashMap<>();
    Map<String, String> measured = new LinkedHashMap<>();
    List<String> lines = markdown.substring(table + EVERY_GOAL.length()).strip().lines().toList();
    for (String line : lines.subList(Math.min(2, lines.size()), lines.size())) {
      if (!line.startsWith("| ") || !line.endsWith(" |")) {
        break; // the table ends
      }
      String[] cells = line.substring(2, line.length() - 2).split(" \\| ", -1);
      if (cells.length >= 4) {
        met.put(cells[0], cells[3].equals("yes"));
        measured.put(cells[0], cells[2]);
      }
    }
    return met.isEmpty() ? null : new Previous(m.group(1), m.group(2), met, measured);
  }

  /** The sentence that sets this run's misses beside the previous run's. */
  private String comparison(Previous before, boolean compared, List<Goal> missed) {
    if (before == null) {
      return "";
    }
    if (!compared) {
      return f(
          " The lab.md this run replaced (%s) was of %s mode: not compared.",
          before.written(), before.mode());
    }
    long both =
        missed.stream().filter(g -> Boolean.FALSE.equals(before.met().get(g.pair()))).count();
    long newly =
        missed.stream().filter(g -> Boolean.TRUE.equals(before.met().get(g.pair()))).count();
    long metNow =
        goals.stream()
            .filter(g -> g.met() && Boolean.FALSE.equals(before.met().get(g.pair())))
            .count();
    return f(
        " Beside the run this one replaced (%s, %s mode): %d of these %d goals were missed there"
            + " too, %d were met there, and %d goals met here were missed there (the last column"
            + " of the table below). A goal missed in both runs is a gap; one that flips between"
            + " runs sits within the measurement's spread, wherever one run puts it.",
        before.written(), before.mode(), both, missed.size(), newly, metNow);
  }

  /** The previous run's verdict and figure for {@code g}; {@code metThen} is empty if none. */
  private static String earlier(Previous before, Map<String, Boolean> metThen, Goal g) {
    Boolean then = metThen.get(g.pair());
    if (then == null) {
      return "—";
    }
    return (then ? "met, " : "missed, ") + before.measured().get(g.pair());
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
