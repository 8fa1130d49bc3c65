package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.RemoteException;
import dev.parley.error.TransportException;
import dev.parley.rpc.Kitchen.CreateTicket;
import dev.parley.rpc.Kitchen.GetTicket;
import dev.parley.rpc.Kitchen.Ticket;
import dev.parley.security.Access;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md S1 and S2: service identity on the synchronous side, with certificates made here
 * (BouncyCastle) and tokens signed here (nimbus-jose-jwt). Every refusal is 401 / 403 with a stable
 * error code, over REST and gRPC, and the handler runs 0 times for it.
 */
class ServiceIdentityIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ISSUER = "https://auth.parley.test";
  private static final String AUDIENCE = "kitchen";

  @org.junit.jupiter.api.extension.RegisterExtension
  static final dev.parley.testing.kit.EmbeddedBrokerExtension broker =
      new dev.parley.testing.kit.EmbeddedBrokerExtension();

  @TempDir static Path dir;
  private static TestPki.Issued ca;
  private static TestPki.Issued serverCert;
  private static TestPki.Issued orderService;
  private static TestPki.Issued stranger;
  private static TestPki.Issued foreign;
  private static RSAKey signingKey;
  private static RSAKey otherKey;
  private static Path jwks;

  /** Records who called; answers like the kitchen. */
  static final class Recording {
    final AtomicInteger calls = new AtomicInteger();
    final List<String> identities = new CopyOnWriteArrayList<>();

    Ticket create(CreateTicket request, dev.parley.operation.CallContext context) {
      calls.incrementAndGet();
      identities.add(
          context
              .identity()
              .map(i -> i.name() + new java.util.TreeSet<>(i.scopes()))
              .orElse("none"));
      return new Ticket("t-" + request.orderId(), request.orderId(), 1, context.binding());
    }

    Ticket get(GetTicket request, dev.parley.operation.CallContext context) {
      calls.incrementAndGet();
      return new Ticket(request.id(), "o", 1, context.binding());
    }
  }

  @BeforeAll
  static void makeCertificatesAndKeys() throws Exception {
    TestPki pki = new TestPki(dir);
    ca = pki.authority("parley-test-ca");
    serverCert =
        pki.leaf(
            ca,
            "kitchen",
            new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
            new GeneralName(GeneralName.dNSName, "localhost"));
    orderService =
        pki.leaf(
            ca,
            "order-service",
            new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://parley.test/orders"));
    stranger = pki.leaf(ca, "stranger");
    foreign = pki.leaf(pki.authority("someone-else-ca"), "order-service-look-alike");
    signingKey = new RSAKeyGenerator(2048).keyID("k1").generate();
    otherKey = new RSAKeyGenerator(2048).keyID("k1").generate();
    jwks = dir.resolve("jwks.json");
    Files.writeString(jwks, new JWKSet(signingKey.toPublicJWK()).toString());
  }

  // ---- JWT ----

  private static JWTClaimsSet.Builder claims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .subject("order-service")
        .claim("scope", "kitchen.write kitchen.read")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(10))));
  }

  private static String sign(JWTClaimsSet claims, RSAKey key) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID(key.getKeyID())
                .type(JOSEObjectType.JWT)
                .build(),
            claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static RpcServer jwtServer(Recording kitchen) {
    return RpcServer.builder()
        .codecs(Codecs.of(JsonCodec.of()))
        .authenticator(
            JwtAuthenticator.builder().jwks(jwks).issuer(ISSUER).audience(AUDIENCE).build())
        .access(
            Access.builder()
                .allowScope("kitchen/CreateTicket", "kitchen.write")
                .allowScope("kitchen/GetTicket", "kitchen.read")
                .build())
        .serve(Kitchen.CREATE_TICKET, kitchen::create)
        .serve(Kitchen.GET_TICKET, kitchen::get)
        .build()
        .start();
  }

  private static RpcClient client(RpcServer server, Binding binding, String token) {
    RpcClient.Builder b =
        RpcClient.builder()
            .binding(binding)
            .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
            .codecs(Codecs.of(JsonCodec.of()));
    if (token != null) {
      b.credentials(CallCredentials.bearer(() -> token));
    }
    return b.build();
  }

  @Test
  void aValidTokenIsTheCallersIdentityOverRestAndGrpc() throws Exception {
    Recording kitchen = new Recording();
    String token = sign(claims().build(), signingKey);
    try (RpcServer server = jwtServer(kitchen)) {
      for (Binding binding : new Binding[] {Binding.REST, Binding.GRPC}) {
        try (RpcClient client = client(server, binding, token)) {
          assertThat(client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-1", 1)).servedOver())
              .isEqualTo(binding.name().toLowerCase());
        }
      }
      assertThat(kitchen.identities)
          .containsExactly(
              "order-service[kitchen.read, kitchen.write]",
              "order-service[kitchen.read, kitchen.write]");
      assertThat(server.describeSecurity()).contains("jwt (issuer " + ISSUER);
    }
  }

  @Test
  void everyBadTokenIsRefusedWith401AndTheHandlerNeverRuns() throws Exception {
    Recording kitchen = new Recording();
    Instant now = Instant.now();
    String valid = sign(claims().build(), signingKey);
    String[] parts = valid.split("\\.");
    String tamperedPayload =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                claims().subject("admin").build().toString().getBytes(StandardCharsets.UTF_8));
    SignedJWT hmac =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(), claims().build());
    // the "algorithm confusion" attack: HMAC keyed with the bytes of the public key
    hmac.sign(new MACSigner(signingKey.toPublicJWK().toRSAPublicKey().getEncoded()));
    Map<String, String> badTokens =
        new java.util.LinkedHashMap<>(
            Map.of(
                "alg none", new PlainJWT(claims().build()).serialize(),
                "wrong key", sign(claims().build(), otherKey),
                "wrong issuer", sign(claims().issuer("https://evil.test").build(), signingKey),
                "wrong audience", sign(claims().audience("billing").build(), signingKey),
                "expired",
                    sign(
                        claims()
                            .expirationTime(Date.from(now.minus(Duration.ofMinutes(5))))
                            .build(),
                        signingKey),
                "not yet valid",
                    sign(
                        claims().notBeforeTime(Date.from(now.plus(Duration.ofMinutes(5)))).build(),
                        signingKey),
                "tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2],
                "hmac with the public key", hmac.serialize(),
                "no exp", sign(claims().expirationTime(null).build(), signingKey),
                "garbage", "not-a-jwt"));
    try (RpcServer server = jwtServer(kitchen)) {
      for (var bad : badTokens.entrySet()) {
        for (Binding binding : new Binding[] {Binding.REST, Binding.GRPC}) {
          try (RpcClient client = client(server, binding, bad.getValue())) {
            RemoteException refused =
                catchThrowableOfType(
                    RemoteException.class,
                    () -> client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-1", 1)));
            assertThat(refused).as(bad.getKey() + " over " + binding).isNotNull();
            assertThat(refused.status().code()).as(bad.getKey()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(refused.status().errorCode()).as(bad.getKey()).startsWith("parley.auth.");
            assertThat(refused.getMessage()).doesNotContain(bad.getValue());
          }
        }
      }
      // no token at all
      try (RpcClient client = client(server, Binding.REST, null)) {
        RemoteException refused =
            catchThrowableOfType(
                RemoteException.class,
                () -> client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-1", 1)));
        assertThat(refused.status().code()).isEqualTo(Code.UNAUTHENTICATED);
        assertThat(refused.status().errorCode()).isEqualTo("parley.auth.missing");
      }
      assertThat(kitchen.calls).as("handler calls for refused tokens").hasValue(0);
    }
  }

  @Test
  void aMissingScopeIs403AndARawClientSeesProblemJson() throws Exception {
    Recording kitchen = new Recording();
    String readOnly = sign(claims().claim("scope", "kitchen.read").build(), signingKey);
    try (RpcServer server = jwtServer(kitchen)) {
      for (Binding binding : new Binding[] {Binding.REST, Binding.GRPC}) {
        try (RpcClient client = client(server, binding, readOnly)) {
          RemoteException refused =
              catchThrowableOfType(
                  RemoteException.class,
                  () -> client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-1", 1)));
          assertThat(refused.status().code()).isEqualTo(Code.PERMISSION_DENIED);
          assertThat(refused.status().errorCode()).isEqualTo("parley.permission_denied");
          // the same token may read
          assertThat(client.call(Kitchen.GET_TICKET, new GetTicket("t-1")).id()).isEqualTo("t-1");
        }
      }
      assertThat(kitchen.calls).hasValue(2);

      HttpClient http = HttpClient.newHttpClient();
      String url = "http://127.0.0.1:" + server.port() + "/kitchen/CreateTicket";
      HttpResponse<String> noToken =
          http.send(
              HttpRequest.newBuilder(URI.create(url))
                  .header("content-type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"orderId\":\"o\",\"items\":1}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(noToken.statusCode()).isEqualTo(401);
      assertThat(noToken.headers().firstValue("content-type")).hasValue("application/problem+json");
      assertThat(noToken.headers().firstValue("www-authenticate"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
      JsonNode body = JSON.readTree(noToken.body());
      assertThat(body.get("code").asText()).isEqualTo("UNAUTHENTICATED");
      assertThat(body.get("errorCode").asText()).isEqualTo("parley.auth.missing");
      HttpResponse<String> forbidden =
          http.send(
              HttpRequest.newBuilder(URI.create(url))
                  .header("content-type", "application/json")
                  .header("authorization", "Bearer " + readOnly)
                  .POST(HttpRequest.BodyPublishers.ofString("{\"orderId\":\"o\",\"items\":1}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(forbidden.statusCode()).isEqualTo(403);
      assertThat(JSON.readTree(forbidden.body()).get("detail").asText())
          .isEqualTo("'order-service' may not call kitchen/CreateTicket");
      assertThat(kitchen.calls).hasValue(2);
    }
  }

  // ---- mutual TLS ----

  private static RpcServer mtlsServer(Recording kitchen) {
    return RpcServer.builder()
        .tls(serverCert.certificatePem().toFile(), serverCert.keyPem().toFile())
        .clientCertificates(ca.certificatePem().toFile())
        .access(Access.builder().allow("kitchen/*", "spiffe://parley.test/orders").build())
        .codecs(Codecs.of(JsonCodec.of()))
        .serve(Kitchen.CREATE_TICKET, kitchen::create)
        .build()
        .start();
  }

  private static RpcClient mtlsClient(RpcServer server, Binding binding, TestPki.Issued cert) {
    RpcClient.Builder b =
        RpcClient.builder()
            .binding(binding)
            .tls(true)
            .trust(ca.certificatePem().toFile())
            .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
            .codecs(Codecs.of(JsonCodec.of()));
    if (cert != null) {
      b.credentials(
          CallCredentials.clientCertificate(
              cert.certificatePem().toFile(), cert.keyPem().toFile()));
    }
    return b.build();
  }

  @Test
  void aClientCertificateIsTheCallersIdentityAndTheRulesApply() {
    Recording kitchen = new Recording();
    try (RpcServer server = mtlsServer(kitchen)) {
      for (Binding binding : new Binding[] {Binding.REST, Binding.GRPC}) {
        try (RpcClient client = mtlsClient(server, binding, orderService)) {
          assertThat(client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-1", 1)).servedOver())
              .isEqualTo(binding.name().toLowerCase());
        }
        try (RpcClient client = mtlsClient(server, binding, stranger)) {
          RemoteException refused =
              catchThrowableOfType(
                  RemoteException.class,
                  () -> client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-2", 1)));
          assertThat(refused.status().code()).isEqualTo(Code.PERMISSION_DENIED);
          assertThat(refused.status().message())
              .isEqualTo("'stranger' may not call kitchen/CreateTicket");
        }
      }
      assertThat(kitchen.identities)
          .containsExactly("spiffe://parley.test/orders[]", "spiffe://parley.test/orders[]");
    }
  }

  @Test
  void withoutATrustedCertificateTheHandshakeFails() {
    Recording kitchen = new Recording();
    try (RpcServer server = mtlsServer(kitchen)) {
      for (TestPki.Issued cert : new TestPki.Issued[] {null, foreign}) {
        for (Binding binding : new Binding[] {Binding.REST, Binding.GRPC}) {
          try (RpcClient client = mtlsClient(server, binding, cert)) {
            Throwable failure =
                catchThrowable(
                    () -> client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-3", 1)));
            assertThat(failure)
                .as((cert == null ? "no certificate" : "foreign CA") + " over " + binding)
                .isInstanceOf(ParleyException.class);
            assertThat(failure).isNotInstanceOf(RemoteException.class);
            assertThat(failure).isInstanceOf(TransportException.class);
          }
        }
      }
      assertThat(kitchen.calls).hasValue(0);
    }
  }

  @Test
  void theClientKeepsARefreshingTokenUntilShortlyBeforeItExpires() throws Exception {
    Recording kitchen = new Recording();
    AtomicInteger fetched = new AtomicInteger();
    try (RpcServer server = jwtServer(kitchen);
        RpcClient client =
            RpcClient.builder()
                .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
                .codecs(Codecs.of(JsonCodec.of()))
                .credentials(
                    CallCredentials.bearer(
                        () -> {
                          fetched.incrementAndGet();
                          try {
                            return sign(claims().build(), signingKey);
                          } catch (Exception e) {
                            throw new IllegalStateException(e);
                          }
                        }))
                .build()) {
      for (int i = 0; i < 5; i++) {
        client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-" + i, 1));
      }
    }
    assertThat(kitchen.calls).hasValue(5);
    assertThat(fetched).as("tokens fetched for 5 calls (valid 10 min)").hasValue(1);
  }

  // ---- the same identity over messaging ----

  static final dev.parley.operation.Operation<CreateTicket, Ticket> SECURED =
      dev.parley.operation.Operation.of(
          "secured-kitchen", "CreateTicket", CreateTicket.class, Ticket.class);

  private static dev.parley.messaging.Messaging messaging(String service) {
    return dev.parley.messaging.Messaging.builder()
        .service(service)
        .brokerUri(broker.amqpUri().toString()) // owned, so closed with the Messaging
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  @Test
  void overMessagingTheTokenTravelsInAHeaderAndTheSameRulesApply() throws Exception {
    Recording kitchen = new Recording();
    String writer = sign(claims().build(), signingKey);
    String reader = sign(claims().claim("scope", "kitchen.read").build(), signingKey);
    java.util.List<dev.parley.message.Message> deadLetters = new CopyOnWriteArrayList<>();
    try (dev.parley.messaging.Messaging serverSide = messaging("secured-kitchen");
        dev.parley.messaging.Messaging clientSide = messaging("orders");
        RpcServer server =
            RpcServer.builder()
                .codecs(Codecs.of(JsonCodec.of()))
                .messaging(serverSide)
                .authenticator(
                    JwtAuthenticator.builder().jwks(jwks).issuer(ISSUER).audience(AUDIENCE).build())
                .access(Access.builder().allowScope("secured-kitchen/*", "kitchen.write").build())
                .serve(SECURED, kitchen::create)
                .build()
                .start()) {
      serverSide.subscribeDeadLetters(SECURED.commandChannel(), "", deadLetters::add);
      java.util.function.Function<String, RpcClient> client =
          token -> {
            RpcClient.Builder b =
                RpcClient.builder()
                    .binding(Binding.MESSAGING)
                    .messaging(clientSide)
                    .messagingTimeout(Duration.ofSeconds(10))
                    .codecs(Codecs.of(JsonCodec.of()));
            if (token != null) {
              b.credentials(CallCredentials.bearer(() -> token));
            }
            return b.build();
          };
      try (RpcClient c = client.apply(writer)) {
        assertThat(c.call(SECURED, new CreateTicket("o-m", 1)).servedOver()).isEqualTo("messaging");
      }
      assertThat(kitchen.identities).containsExactly("order-service[kitchen.read, kitchen.write]");
      for (String[] bad :
          new String[][] {
            {null, "UNAUTHENTICATED"},
            {sign(claims().build(), otherKey), "UNAUTHENTICATED"},
            {reader, "PERMISSION_DENIED"}
          }) {
        try (RpcClient c = client.apply(bad[0])) {
          RemoteException refused =
              catchThrowableOfType(
                  RemoteException.class, () -> c.call(SECURED, new CreateTicket("o-x", 1)));
          assertThat(refused).isNotNull();
          assertThat(refused.status().code().name()).isEqualTo(bad[1]);
        }
      }
      assertThat(kitchen.calls).hasValue(1);
      // refused requests are dead-lettered (nothing lost) without the credential
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> deadLetters.size() == 3);
      assertThat(deadLetters)
          .allSatisfy(
              m -> {
                assertThat(m.headers()).doesNotContainKey("parley-authorization");
                assertThat(m.headers().get("parley-error-code"))
                    .matches("parley\\.(auth\\..*|permission_denied)");
              });
    }
  }
}
