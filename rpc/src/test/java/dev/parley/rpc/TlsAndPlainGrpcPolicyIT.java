package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.grpc.GrpcClients;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.policy.Policy;
import dev.parley.rpc.Kitchen.CreateTicket;
import dev.parley.rpc.test.GreetRequest;
import dev.parley.rpc.test.GreeterGrpc;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * TLS on the shared port (HTTPS and h2 next to cleartext), and the server's policy applied to a
 * plain grpc-java service served alongside the operations.
 */
class TlsAndPlainGrpcPolicyIT {

  @Test
  void servesOperationsOverTlsAndAppliesTheServerPolicyToPlainGrpcServices() {
    Greeter greeter = new Greeter();
    try (RpcServer server =
        RpcServer.builder()
            .tlsSelfSigned()
            .codecs(Codecs.of(JsonCodec.of()))
            .policy(Policy.builder().rateLimit(4, Duration.ofHours(1)).build())
            .serve(Kitchen.CREATE_TICKET, new Kitchen()::create)
            .grpcService(greeter)
            .build()
            .start()) {
      for (Binding binding : new Binding[] {Binding.REST, Binding.GRPC}) {
        try (RpcClient client =
            RpcClient.builder()
                .binding(binding)
                .tls(true)
                .factory(ClientFactory.insecure())
                .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
                .codecs(Codecs.of(JsonCodec.of()))
                .build()) {
          assertThat(client.call(Kitchen.CREATE_TICKET, new CreateTicket("o-tls", 1)).servedOver())
              .isEqualTo(binding.name().toLowerCase());
        }
      }
      GreeterGrpc.GreeterBlockingStub stub =
          GrpcClients.builder("https://127.0.0.1:" + server.port())
              .factory(ClientFactory.insecure())
              .build(GreeterGrpc.GreeterBlockingStub.class);

      stub.greet(GreetRequest.newBuilder().setName("one").build());
      stub.greet(GreetRequest.newBuilder().setName("two").build());
      StatusRuntimeException refused =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () -> stub.greet(GreetRequest.newBuilder().setName("three").build()));

      assertThat(greeter.calls).hasValue(2);
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(
              refused
                  .getTrailers()
                  .get(Metadata.Key.of("parley-error-code", Metadata.ASCII_STRING_MARSHALLER)))
          .isEqualTo("parley.rate_limited");
      assertThat(
              refused
                  .getTrailers()
                  .get(Metadata.Key.of("parley-retry-after-ms", Metadata.ASCII_STRING_MARSHALLER)))
          .isNotBlank();
    }
  }
}
