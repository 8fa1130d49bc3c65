package dev.parley.bench.lab;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar per lab section, on standard error so the report's output stays clean. */
final class Progress implements AutoCloseable {

  private final ProgressBar bar;

  Progress(String task, long steps) {
    bar =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(steps)
            .setStyle(ProgressBarStyle.ASCII)
            .setUpdateIntervalMillis(500)
            .setConsumer(new ConsoleProgressBarConsumer(System.err, 100))
            .continuousUpdate()
            .build();
  }

  void step() {
    bar.step();
  }

  void message(String text) {
    bar.setExtraMessage(text);
  }

  @Override
  public void close() {
    bar.close();
  }
}
