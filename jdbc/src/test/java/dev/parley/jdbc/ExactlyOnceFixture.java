package dev.parley.jdbc;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.message.Message;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Redelivery;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.ScratchDatabase;
import dev.parley.transport.amqp.AmqpTransport;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the exactly-once tests share: a real broker (the embedded Artemis), a scratch database with
 * Parley's tables (each subclass picks the database), a messaging instance, and a ledger table with
 * no unique constraint, so that a duplicate effect would show.
 */
abstract class ExactlyOnceFixture {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  record Event(String key, int seq) {}

  abstract ScratchDatabase database();

  ScratchDatabase.Instance db;
  Messaging messaging;
  final List<AutoCloseable> closeables = new ArrayList<>();
  String prefix;

  @BeforeEach
  void open() {
    db = database().open();
    Schema.create(db.dataSource(), Schema.DEFAULT_PREFIX);
    db.execute(
        "CREATE TABLE ledger (consumer_group VARCHAR(64), message_id VARCHAR(64), k VARCHAR(64),"
            + " seq INT, applied_at BIGINT)");
    prefix = "eo." + UUID.randomUUID().toString().substring(0, 8) + ".";
    messaging = messaging(broker.amqpUri());
  }

  /** A messaging instance of its own on the broker at {@code uri}, closed after the test. */
  Messaging messaging(URI uri) {
    Transport transport = AmqpTransport.builder(uri).build();
    closeables.add(transport); // Messaging does not close a transport it was handed
    Messaging m =
        Messaging.builder()
            .service("orders")
            .transport(transport)
            .codecs(Codecs.of(JsonCodec.of()))
            .subscriptionOptions(
                SubscriptionOptions.defaults()
                    .withRedelivery(
                        Redelivery.of(3, Duration.ofMillis(10), Duration.ofMillis(200))))
            .build();
    closeables.add(m);
    return m;
  }

  /** A messaging instance whose connection goes through {@code proxy} (its kill switch). */
  Messaging messagingVia(FaultProxy proxy) {
    return messaging(URI.create("amqp://127.0.0.1:" + proxy.port()));
  }

  /** A fault proxy in front of the broker, closed after the test. */
  FaultProxy brokerProxy() {
    FaultProxy proxy = FaultProxy.to("127.0.0.1", broker.amqpUri().getPort());
    closeables.add(proxy);
    return proxy;
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    db.close();
  }

  Outbox outbox(Outbox.Builder b) {
    Outbox o = b.build();
    closeables.add(o);
    return o;
  }

  Outbox.Builder outboxBuilder() {
    return Outbox.builder(db.dataSource(), messaging).pollInterval(Duration.ofMillis(20));
  }

  Inbox inbox() {
    return Inbox.builder(db.dataSource()).build();
  }

  /** A handler that appends the event to the ledger in the inbox's transaction. */
  TransactionalHandler<Event> ledger(String group) {
    return (event, ctx, c) -> {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO ledger (consumer_group, message_id, k, seq, applied_at)"
                  + " VALUES (?, ?, ?, ?, ?)")) {
        ps.setString(1, group);
        ps.setString(2, ctx.message().id());
        ps.setString(3, event.key());
        ps.setInt(4, event.seq());
        ps.setLong(5, System.nanoTime());
        ps.executeUpdate();
      }
    };
  }

  void inTransaction(SqlWork work) {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      work.run(c);
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  interface SqlWork {
    void run(Connection c) throws SQLException;
  }

  long ledgerRows() {
    return db.count("SELECT COUNT(*) FROM ledger");
  }

  List<Integer> seqsOf(String key) {
    List<Integer> out = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT seq FROM ledger WHERE k = ? ORDER BY applied_at")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getInt(1));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  static MessageContext context(Message m) {
    return new MessageContext() {
      @Override
      public Message message() {
        return m;
      }

      @Override
      public int attempt() {
        return 1;
      }

      @Override
      public java.util.Optional<java.time.Instant> deadline() {
        return java.util.Optional.empty();
      }

      @Override
      public java.util.Optional<String> partitionKey() {
        return java.util.Optional.empty();
      }
    };
  }
}
