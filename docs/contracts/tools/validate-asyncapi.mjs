// Usage: node validate-asyncapi.mjs <document.json>
// Prints the parser's diagnostics (one per line) and exits 1 if any is an error (severity 0).
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const file = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'));
let errors = 0;
for (const d of diagnostics) {
  const level = ['error', 'warning', 'info', 'hint'][d.severity] ?? String(d.severity);
  if (d.severity === 0) errors++;
  console.log(`${level} ${d.code} ${(d.path || []).join('/')}: ${d.message}`);
}
if (!document || errors > 0) {
  console.log(`INVALID: ${errors} error(s)`);
  process.exit(1);
}
console.log(`VALID: AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.operations().length} operations`);
