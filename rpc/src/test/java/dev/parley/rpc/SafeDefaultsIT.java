package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** S9 and issue 19's safe defaults: loopback unless asked, TLS ports speak TLS only. */
class SafeDefaultsIT {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static int get(String url) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void aServerListensOnLoopbackWithItsPagesUnlessAskedOtherwise() throws Exception {
    try (RpcServer server =
        RpcServer.builder()
            .codecs(Codecs.of(JsonCodec.of()))
            .serve(Kitchen.CREATE_TICKET, new Kitchen()::create)
            .build()
            .start()) {
      assertThat(server.localAddress().getAddress().isLoopbackAddress()).isTrue();
      String base = "http://127.0.0.1:" + server.port();
      assertThat(get(base + "/internal/health")).isEqualTo(200);
      assertThat(get(base + "/operations")).isEqualTo(200);
      assertThat(get(base + "/docs/")).isEqualTo(200);
    }
    try (RpcServer server =
        RpcServer.builder()
            .codecs(Codecs.of(JsonCodec.of()))
            .serve(Kitchen.CREATE_TICKET, new Kitchen()::create)
            .docs(false)
            .health(false)
            .build()
            .start()) {
      String base = "http://127.0.0.1:" + server.port();
      assertThat(get(base + "/internal/health")).isEqualTo(404);
      assertThat(get(base + "/operations")).isEqualTo(404);
      assertThat(get(base + "/docs/")).isEqualTo(404);
    }
  }

  /** Off loopback the pages are opt-in (decided here without binding another interface). */
  @Test
  void offLoopbackThePagesAndHealthAreOptIn() throws Exception {
    InetAddress elsewhere = InetAddress.getByName("10.0.0.7");
    assertThat(RpcServer.onByDefaultOnLoopback(null, elsewhere)).isFalse();
    assertThat(RpcServer.onByDefaultOnLoopback(true, elsewhere)).isTrue();
    assertThat(RpcServer.onByDefaultOnLoopback(null, InetAddress.getLoopbackAddress())).isTrue();
    assertThat(RpcServer.onByDefaultOnLoopback(false, InetAddress.getLoopbackAddress())).isFalse();
  }

  @Test
  void aTlsPortRefusesPlaintext() throws Exception {
    try (RpcServer server =
        RpcServer.builder()
            .tlsSelfSigned()
            .codecs(Codecs.of(JsonCodec.of()))
            .serve(Kitchen.CREATE_TICKET, new Kitchen()::create)
            .build()
            .start()) {
      assertThatThrownBy(() -> get("http://127.0.0.1:" + server.port() + "/internal/health"))
          .as("plaintext on the TLS port (it answered 200 before)")
          .isInstanceOf(IOException.class);
      assertThat(
              WebClient.builder("https://127.0.0.1:" + server.port())
                  .factory(ClientFactory.insecure())
                  .build()
                  .blocking()
                  .get("/internal/health")
                  .status()
                  .code())
          .isEqualTo(200);
    }
  }
}
