package dev.parley.rpc;

import com.linecorp.armeria.common.grpc.GrpcJsonMarshaller;
import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.ServiceDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * {@code application/grpc+json} (and gRPC-Web JSON) for operations: the operation's JSON codec, the
 * same JSON its REST binding speaks; anything else (the reflection service) Armeria's own protobuf
 * JSON mapping.
 */
final class CodecJsonMarshaller implements GrpcJsonMarshaller {

  private final ServiceDescriptor service;
  private volatile GrpcJsonMarshaller protobuf;

  CodecJsonMarshaller(ServiceDescriptor service) {
    this.service = service;
  }

  @Override
  public <T> void serializeMessage(Marshaller<T> marshaller, T message, OutputStream os)
      throws IOException {
    if (marshaller instanceof CodecMarshaller<?> c) {
      os.write(c.json.encode(message));
    } else if (marshaller instanceof CodecMarshaller.Lenient<?> l) {
      os.write(l.delegate.json.encode(message));
    } else {
      protobuf().serializeMessage(marshaller, message, os);
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T deserializeMessage(Marshaller<T> marshaller, InputStream is) throws IOException {
    if (marshaller instanceof CodecMarshaller<?> c) {
      return (T) c.parseJson(is);
    }
    if (marshaller instanceof CodecMarshaller.Lenient<?> l) {
      return (T) l.parseJson(is);
    }
    return protobuf().deserializeMessage(marshaller, is);
  }

  private GrpcJsonMarshaller protobuf() {
    GrpcJsonMarshaller m = protobuf;
    if (m == null) {
      m = GrpcJsonMarshaller.of(service);
      protobuf = m;
    }
    return m;
  }
}
