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

  /**
   * RFC 9112 §6.1: a request with both Content-Length and Transfer-Encoding is refused with 400 and
   * the connection closed, so a request smuggled behind it (pipelined on the same connection) is
   * never answered.
   */
  @Test
  void aRequestWithContentLengthAndTransferEncodingIsRefusedAndTheConnectionClosed()
      throws Exception {
    Kitchen kitchen = new Kitchen();
    try (RpcServer server =
            RpcServer.builder()
                .codecs(Codecs.of(JsonCodec.of()))
                .serve(Kitchen.CREATE_TICKET, kitchen::create)
                .build()
                .start();
        java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(5_000);
      String body = "{\"orderId\":\"o-1\",\"items\":1}";
      String chunked = Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n";
      String smuggled = "GET /internal/health HTTP/1.1\r\nHost: x\r\n\r\n";
      String request =
          "POST /kitchen/CreateTicket HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + "Content-Length: "
              + chunked.length()
              + "\r\nTransfer-Encoding: chunked\r\n\r\n"
              + chunked
              + smuggled;
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String answer =
          new String(
              socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 400");
      assertThat(answer)
          .as("one answer only: the smuggled request is not served")
          .containsOnlyOnce("HTTP/1.1");
      assertThat(kitchen.calls).hasValue(0);
    }
  }

  /**
   * The framing guard follows legitimate pipelined HTTP/1.1 requests: a body by Content-Length, a
   * chunked body with an extension and a trailer, and a request without a body, each answered, and
   * the connection stays open.
   */
  @Test
  void pipelinedRequestsWithEitherFramingAreAnsweredOnOneConnection() throws Exception {
    Kitchen kitchen = new Kitchen();
    try (RpcServer server =
            RpcServer.builder()
                .codecs(Codecs.of(JsonCodec.of()))
                .serve(Kitchen.CREATE_TICKET, kitchen::create)
                .build()
                .start();
        java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(5_000);
      String body = "{\"orderId\":\"o-1\",\"items\":1}";
      String lengthFramed =
          "POST /kitchen/CreateTicket HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + "Content-Length: "
              + body.length()
              + "\r\n\r\n"
              + body;
      String chunked =
          "\r\nPOST /kitchen/CreateTicket HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n"
              + "5;ext=1\r\n"
              + body.substring(0, 5)
              + "\r\n"
              + Integer.toHexString(body.length() - 5)
              + "\r\n"
              + body.substring(5)
              + "\r\n0\r\nX-Trailer: t\r\n\r\n";
      String noBody = "GET /internal/health HTTP/1.1\r\nHost: x\r\n\r\n";
      var out = socket.getOutputStream();
      // byte by byte for the first request: the guard follows framing across reads
      for (byte b : lengthFramed.getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
        out.write(b);
        out.flush();
      }
      out.write((chunked + noBody).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      var in =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      StringBuilder seen = new StringBuilder();
      char[] chunk = new char[4096];
      // responses end without a newline: count status lines in all that arrived
      while (seen.toString().split("HTTP/1\\.1 ", -1).length - 1 < 3) {
        int n = in.read(chunk);
        assertThat(n).as("connection closed after: " + seen).isPositive();
        seen.append(chunk, 0, n);
      }
      assertThat(seen.toString().split("HTTP/1\\.1 200 ", -1)).hasSize(4);
      assertThat(kitchen.calls).hasValue(2);
      assertThat(seen.toString()).doesNotContain("connection: close");
    }
  }
}
