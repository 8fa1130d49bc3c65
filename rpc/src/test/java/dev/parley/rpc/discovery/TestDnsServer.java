package dev.parley.rpc.discovery;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS server on loopback UDP answering A and SRV questions from a table, for discovery tests (a
 * real resolver talks to it over the socket). Unknown names get NXDOMAIN.
 */
final class TestDnsServer implements AutoCloseable {

  /** One SRV answer. */
  record Srv(int priority, int weight, int port, String target) {}

  private final Map<String, List<byte[]>> a = new ConcurrentHashMap<>();
  private final Map<String, List<Srv>> srv = new ConcurrentHashMap<>();
  private final AtomicInteger queries = new AtomicInteger();
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;

  TestDnsServer() throws InterruptedException {
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioDatagramChannel.class)
            .handler(
                new ChannelInitializer<DatagramChannel>() {
                  @Override
                  protected void initChannel(DatagramChannel ch) {
                    ch.pipeline()
                        .addLast(new DatagramDnsQueryDecoder())
                        .addLast(new DatagramDnsResponseEncoder())
                        .addLast(new Answerer());
                  }
                })
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .sync()
            .channel();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  void addA(String name, String ipv4) throws Exception {
    a.put(fqdn(name), List.of(InetAddress.getByName(ipv4).getAddress()));
  }

  void setSrv(String name, List<Srv> answers) {
    srv.put(fqdn(name), List.copyOf(answers));
  }

  int queries() {
    return queries.get();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static String fqdn(String name) {
    return name.endsWith(".") ? name : name + ".";
  }

  private final class Answerer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
      queries.incrementAndGet();
      DnsQuestion question = query.recordAt(DnsSection.QUESTION);
      DatagramDnsResponse response =
          new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      response.addRecord(DnsSection.QUESTION, question);
      String name = question.name();
      boolean known = false;
      if (question.type() == DnsRecordType.A && a.containsKey(name)) {
        known = true;
        for (byte[] address : a.get(name)) {
          response.addRecord(
              DnsSection.ANSWER,
              new DefaultDnsRawRecord(name, DnsRecordType.A, 1, Unpooled.wrappedBuffer(address)));
        }
      } else if (question.type() == DnsRecordType.SRV && srv.containsKey(name)) {
        known = true;
        for (Srv s : srv.get(name)) {
          ByteBuf data = Unpooled.buffer();
          data.writeShort(s.priority()).writeShort(s.weight()).writeShort(s.port());
          for (String label : fqdn(s.target()).split("\\.")) {
            byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
            data.writeByte(bytes.length).writeBytes(bytes);
          }
          data.writeByte(0);
          response.addRecord(
              DnsSection.ANSWER, new DefaultDnsRawRecord(name, DnsRecordType.SRV, 1, data));
        }
      } else if (a.containsKey(name) || srv.containsKey(name)) {
        known = true; // the name exists, without records of this type
      }
      response.setAuthoritativeAnswer(true);
      response.setCode(known ? DnsResponseCode.NOERROR : DnsResponseCode.NXDOMAIN);
      ctx.writeAndFlush(response);
    }
  }
}
