package dev.parley.bench.lab;

import dev.parley.bench.lab.Measure.Call;

/**
 * A Parley figure and its raw baseline: the same work through Parley and through the raw stack.
 *
 * @param ratesOfSlower open-loop rates from the slower side's maximum instead of the raw side's:
 *     for diagnostic pairs whose "raw" side is Parley doing less (the outbox rows), where rates the
 *     slower side cannot hold would only measure its queue
 */
record Pair(String name, String baseline, Call raw, Call parley, boolean ratesOfSlower) {

  Pair(String name, String baseline, Call raw, Call parley) {
    this(name, baseline, raw, parley, false);
  }
}
