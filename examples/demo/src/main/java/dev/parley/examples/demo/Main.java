package dev.parley.examples.demo;

import dev.parley.messaging.Messaging;
import dev.parley.messaging.MessagingMetrics;

/**
 * Runs {@link Demo} on embedded defaults: no broker to install, no configuration. The first {@code
 * Messaging} starts the embedded Artemis broker (journal in {@code ./parley-data}); both services
 * share it. Set {@code PARLEY_BROKER_URL} to run the same code against another broker.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws Exception {
    Demo demo = new Demo(System.out);
    try (Messaging kitchen = Messaging.builder().service("kitchen-service").build();
        Messaging orders = Messaging.builder().service("order-service").build()) {
      if (args.length > 0 && args[0].equals("serve")) {
        serve(demo, kitchen, args.length > 1 ? Integer.parseInt(args[1]) : 8080);
        return;
      }
      demo.print("demo", "two services connected; running the scenario");
      Demo.Outcome outcome = demo.run(orders, kitchen);
      SyncDemo.Outcome sync = new SyncDemo(demo).run(orders, kitchen);
      print(demo, "order-service", orders.metrics());
      print(demo, "kitchen-service", kitchen.metrics());
      demo.print("demo", "done: " + outcome);
      demo.print("demo", "sync: " + sync);
    }
  }

  /** Keeps the kitchen's operations served until the process is stopped (Ctrl-C). */
  private static void serve(Demo demo, Messaging kitchen, int port) throws InterruptedException {
    try (var server = SyncDemo.kitchenServer(port, kitchen)) {
      demo.print(
          "kitchen-service",
          "try the operations: http://127.0.0.1:" + server.port() + "/operations");
      demo.print("kitchen-service", "gRPC services: http://127.0.0.1:" + server.port() + "/docs/");
      demo.print(
          "kitchen-service",
          "or: curl http://127.0.0.1:" + server.port() + "/kitchen/estimates/biryani");
      new java.util.concurrent.CountDownLatch(1).await();
    }
  }

  private static void print(Demo demo, String service, MessagingMetrics m) {
    demo.print(
        service,
        String.format(
            "metrics: sent %d, received %d, handled %d, retried %d, redelivered %d, dead-lettered %d, expired %d, late replies %d",
            m.sent(),
            m.received(),
            m.handled(),
            m.retried(),
            m.redelivered(),
            m.deadLettered(),
            m.expired(),
            m.lateReplies()));
  }
}
