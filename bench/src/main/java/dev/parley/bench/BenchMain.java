package dev.parley.bench;

/**
 * Entry point: {@code sizes} prints bytes per message for every codec and fixture; {@code
 * exactly-once}, {@code transports} and {@code rpc} run those load drivers, {@code lab} the IPC lab
 * ({@link dev.parley.bench.lab.Lab}); anything else goes to JMH ({@code CodecBench -prof gc -rf
 * json -rff results.json}).
 */
public final class BenchMain {

  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    String[] split = args.length == 1 ? args[0].trim().split("\\s+") : args;
    if (split.length > 0 && split[0].equals("exactly-once")) {
      ExactlyOnceBench.main(split);
      return;
    }
    if (split.length > 0 && split[0].equals("transports")) {
      TransportBench.main(split);
      return;
    }
    if (split.length > 0 && split[0].equals("rpc")) {
      RpcBench.main(split);
      return;
    }
    if (split.length > 0 && split[0].equals("lab")) {
      dev.parley.bench.lab.Lab.main(java.util.Arrays.copyOfRange(split, 1, split.length));
      return;
    }
    if (split.length > 0 && split[0].equals("sizes")) {
      CodecSizes.main(split);
      return;
    }
    org.openjdk.jmh.Main.main(split);
  }
}
