package dev.parley.rpc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.parley.operation.Operation;
import java.lang.reflect.RecordComponent;
import java.util.List;

/**
 * A browser page listing every operation a server serves — REST route, gRPC method, messaging
 * channel, idempotency, input and output types — with a form per operation that calls it over REST.
 * Armeria's DocService ({@code /docs}) describes the plain grpc-java services.
 */
final class OperationsPage implements HttpService {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String html;

  OperationsPage(List<Operation<?, ?>> operations) {
    StringBuilder rows = new StringBuilder();
    int i = 0;
    for (Operation<?, ?> op : operations) {
      rows.append("<section><h2>")
          .append(escape(op.fullName()))
          .append(op.isIdempotent() ? " <small>idempotent</small>" : "")
          .append("</h2><table>")
          .append(row("REST", op.httpMethod() + " " + op.httpPath()))
          .append(row("gRPC", op.service() + "/" + op.name()))
          .append(row("messaging", "command channel " + op.commandChannel().name()))
          .append(row("input", op.inputType().getName()))
          .append(row("output", op.outputType().getName()))
          .append("</table><textarea id=\"in")
          .append(i)
          .append("\" rows=\"5\" cols=\"70\">")
          .append(escape(example(op.inputType())))
          .append("</textarea><br><button onclick=\"call(")
          .append(i)
          .append(",'")
          .append(op.httpMethod())
          .append("','")
          .append(escape(op.httpPath()))
          .append("')\">Call over REST</button><pre id=\"out")
          .append(i)
          .append("\"></pre></section>");
      i++;
    }
    this.html =
        """
        <!doctype html><html><head><meta charset="utf-8"><title>Parley operations</title>
        <style>body{font-family:sans-serif;margin:2em}section{border-top:1px solid #ccc;padding:1em 0}
        td{padding:0 1em 0 0;font-family:monospace}small{color:#080}pre{background:#f4f4f4}</style>
        </head><body><h1>Operations</h1><p>Plain gRPC services: <a href="/docs/">/docs</a></p>
        """
            + rows
            + """
        <script>
        async function call(i, method, template) {
          const out = document.getElementById('out' + i);
          let input;
          try { input = JSON.parse(document.getElementById('in' + i).value || '{}'); }
          catch (e) { out.textContent = 'not JSON: ' + e; return; }
          let path = template.replace(/\\{([^}]+)}/g, (m, name) => {
            const v = input[name]; delete input[name]; return encodeURIComponent(v);
          });
          const init = {method, headers: {accept: 'application/json'}};
          if (method === 'GET' || method === 'DELETE') {
            const q = new URLSearchParams(input).toString();
            if (q) path += '?' + q;
          } else {
            init.headers['content-type'] = 'application/json';
            init.body = JSON.stringify(input);
          }
          const res = await fetch(path, init);
          out.textContent = res.status + ' ' + (res.headers.get('content-type') || '') + '\\n'
              + await res.text();
        }
        </script></body></html>
        """;
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    return HttpResponse.of(HttpStatus.OK, MediaType.HTML_UTF_8, html);
  }

  /** A JSON skeleton of a record input (field names, zero values); {@code {}} otherwise. */
  private static String example(Class<?> type) {
    ObjectNode node = JSON.createObjectNode();
    if (type.isRecord()) {
      for (RecordComponent c : type.getRecordComponents()) {
        Class<?> t = c.getType();
        if (t == String.class) {
          node.put(c.getName(), "");
        } else if (t == boolean.class || t == Boolean.class) {
          node.put(c.getName(), false);
        } else if (t.isPrimitive() || Number.class.isAssignableFrom(t)) {
          node.put(c.getName(), 0);
        } else {
          node.putNull(c.getName());
        }
      }
    }
    return node.toPrettyString();
  }

  private static String row(String name, String value) {
    return "<tr><td>" + name + "</td><td>" + escape(value) + "</td></tr>";
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }
}
