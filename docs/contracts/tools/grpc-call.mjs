// Calls gRPC operations the way a Node.js team would: @grpc/grpc-js with @grpc/proto-loader, knowing
// nothing but each server's address and the .proto it serves (GET /proto/<file>). No Parley code.
//
//   node grpc-call.mjs <calls.json>
//
// calls.json: [{"address": "127.0.0.1:1234", "proto": "http://127.0.0.1:1234/proto/ftgo.proto",
//               "service": "ftgo.Accounting", "method": "AuthorizeCard", "request": {...}}, ...]
// A request string "${Method.field}" is replaced by that field of an earlier call's response.
// Prints one JSON line per call ({"call", "ok", "response"} or {"call", "ok": false, "code",
// "details", "errorCode"}) and exits 0 when every call was answered OK.
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const calls = JSON.parse(readFileSync(process.argv[2], "utf8"));
const responses = {};
let failed = 0;

function resolve(value) {
  if (typeof value === "string") {
    const m = /^\$\{(\w+)\.(\w+)\}$/.exec(value);
    return m ? responses[m[1]][m[2]] : value;
  }
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

async function load(protoUrl) {
  const res = await fetch(protoUrl);
  if (!res.ok) throw new Error(`${protoUrl}: HTTP ${res.status}`);
  const dir = mkdtempSync(join(tmpdir(), "parley-proto-"));
  const file = join(dir, protoUrl.substring(protoUrl.lastIndexOf("/") + 1));
  writeFileSync(file, await res.text());
  const definition = protoLoader.loadSync(file, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

for (const call of calls) {
  const name = `${call.service}/${call.method}`;
  try {
    const pkg = await load(call.proto);
    const Service = call.service.split(".").reduce((o, part) => o && o[part], pkg);
    if (typeof Service !== "function") throw new Error(`${call.service}: not in ${call.proto}`);
    const client = new Service(call.address, grpc.credentials.createInsecure());
    const request = resolve(call.request);
    const response = await new Promise((ok, fail) =>
      client[call.method](request, { deadline: Date.now() + 15000 }, (err, res) =>
        err ? fail(err) : ok(res),
      ),
    );
    client.close();
    responses[call.method] = response;
    console.log(JSON.stringify({ call: name, ok: true, response }));
  } catch (err) {
    failed++;
    const errorCode = err.metadata ? err.metadata.get("parley-error-code")[0] : undefined;
    console.log(
      JSON.stringify({ call: name, ok: false, code: err.code, details: err.details ?? String(err), errorCode }),
    );
  }
}
process.exit(failed === 0 ? 0 : 1);
