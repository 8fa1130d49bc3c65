package dev.parley.bench.lab;

import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Leaves the shared RabbitMQ and the temporary directory as they were. */
final class Cleanup {

  private Cleanup() {}

  static void rabbit(String uri, List<String> queues, List<String> exchanges) {
    ConnectionFactory f = new ConnectionFactory();
    try {
      f.setUri(uri.endsWith("/") ? uri + "%2F" : uri);
      try (com.rabbitmq.client.Connection c = f.newConnection("lab-cleanup")) {
        for (String q : queues) {
          try (com.rabbitmq.client.Channel ch = c.createChannel()) {
            ch.queueDelete(q);
          } catch (IOException | java.util.concurrent.TimeoutException e) {
            System.err.println("lab: deleting queue " + q + ": " + e);
          }
        }
        for (String x : exchanges) {
          try (com.rabbitmq.client.Channel ch = c.createChannel()) {
            ch.exchangeDelete(x);
          } catch (IOException | java.util.concurrent.TimeoutException e) {
            System.err.println("lab: deleting exchange " + x + ": " + e);
          }
        }
      }
    } catch (Exception e) {
      System.err.println("lab: cleaning up RabbitMQ: " + e);
    }
  }

  static void delete(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("lab: deleting " + directory + ": " + e);
    }
  }
}
