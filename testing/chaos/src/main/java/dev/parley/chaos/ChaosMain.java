package dev.parley.chaos;

import dev.parley.testing.kit.ScratchDatabase;
import java.util.Locale;

/**
 * The chaos program: one M1 run, its table on standard output, exit status 0 only when the run is
 * clean (no loss, duplicate, ghost or order violation, outbox drained, every planned fault
 * evidenced).
 *
 * <pre>
 * ./mvnw -q install -DskipTests
 * ./mvnw -q -pl testing/chaos exec:exec -Dchaos.args="--size full --broker rabbitmq"
 * </pre>
 *
 * Options: {@code --size build|full} (default full: 100,000 messages; build: 10,000), {@code
 * --broker artemis|rabbitmq|rabbitmq-cluster|stomp|stomp-cluster|artemis-stomp} (default artemis),
 * {@code --database postgresql|h2} (default postgresql, the machine's on 127.0.0.1:5432), {@code
 * --seed N} (default: random, printed), and {@code --messages}, {@code --keys}, {@code --writers},
 * {@code --broker-kills}, {@code --consumer-kills}, {@code --relay-kills} to override the size's
 * numbers.
 */
public final class ChaosMain {

  private ChaosMain() {}

  public static void main(String[] args) {
    ChaosM1.Config c;
    try {
      c = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("chaos: " + e.getMessage());
      System.exit(2);
      return;
    }
    ChaosResult result = ChaosM1.run(c, System.out);
    System.out.println();
    System.out.print(result.table());
    result.problems().forEach(p -> System.out.println("PROBLEM: " + p));
    System.out.flush();
    System.exit(result.clean() ? 0 : 1);
  }

  static ChaosM1.Config parse(String[] given) {
    // exec:exec passes -Dchaos.args as one argument.
    String[] args =
        given.length == 1 && given[0].contains(" ") ? given[0].trim().split("\\s+") : given;
    String size = "full";
    String broker = "artemis";
    String database = "postgresql";
    long seed = System.nanoTime();
    Integer messages = null;
    Integer keys = null;
    Integer writers = null;
    Integer brokerKills = null;
    Integer consumerKills = null;
    Integer relayKills = null;
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(name + " needs a value");
      }
      String value = args[++i];
      switch (name) {
        case "--size" -> size = value;
        case "--broker" -> broker = value;
        case "--database" -> database = value;
        case "--seed" -> seed = Long.parseLong(value);
        case "--messages" -> messages = Integer.parseInt(value);
        case "--keys" -> keys = Integer.parseInt(value);
        case "--writers" -> writers = Integer.parseInt(value);
        case "--broker-kills" -> brokerKills = Integer.parseInt(value);
        case "--consumer-kills" -> consumerKills = Integer.parseInt(value);
        case "--relay-kills" -> relayKills = Integer.parseInt(value);
        default -> throw new IllegalArgumentException("unknown option " + name);
      }
    }
    ChaosM1.Config base =
        switch (size) {
          case "full" -> ChaosM1.Config.fullSize(broker, seed);
          case "build" -> ChaosM1.Config.buildSize(broker, seed);
          default -> throw new IllegalArgumentException("--size: " + size + " (build or full)");
        };
    return new ChaosM1.Config(
        messages != null ? messages : base.messages(),
        keys != null ? keys : base.keys(),
        seed,
        brokerKills != null ? brokerKills : base.brokerKills(),
        consumerKills != null ? consumerKills : base.consumerKills(),
        relayKills != null ? relayKills : base.relayKills(),
        writers != null ? writers : base.writers(),
        broker,
        ScratchDatabase.valueOf(database.toUpperCase(Locale.ROOT)));
  }
}
