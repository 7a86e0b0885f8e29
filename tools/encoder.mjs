// cmref's component text encoder: WebAssembly text (components and core modules) to binary,
// with the `wast` crate's parser as shipped in @bytecodealliance/jco-transpile (pinned 0.14.0).
//
// One long-lived process per run. Requests, one JSON object per line on stdin:
//   {"id": N, "text": "(component ...)"}
// Replies, strictly in order, one line each on stdout:
//   {"id": N, "wasm": BASE64}            the encoded binary
//   {"id": N, "error": DEBUG_TEXT}       the parser rejected the text (its Debug form, which
//                                        carries line/col/kind; harness/frontend reads it)
//   {"id": N, "crash": MESSAGE}          the parser panicked or trapped; the parser instance
//                                        is thrown away and a fresh one serves what follows
// A request with "panic_for_test": true fails as a parser panic would (tests of the restart).
// The encoder never validates: that is the engine's job.
import { createInterface } from 'node:readline';
import { parse as publicParse } from '@bytecodealliance/jco-transpile/wasm-tools';

// The vendored wasm-tools component behind the public `parse`, for fresh instances after a
// panic (a query string makes node evaluate the module, and so instantiate the Wasm, anew).
const vendorUrl = new URL('../vendor/wasm-tools.js',
  import.meta.resolve('@bytecodealliance/jco-transpile/wasm-tools'));
let generation = 0;
let parse = publicParse;

async function freshParser() {
  generation += 1;
  const mod = await import(`${vendorUrl.href}?generation=${generation}`);
  await mod.$init;
  return async (text) => mod.tools.parse(text);
}

function isParseError(e) {
  return e && e.constructor && e.constructor.name === 'ComponentError' && e.payload !== undefined;
}

async function encode(req) {
  if (typeof req.text !== 'string') {
    return { id: req.id, crash: 'request without a text' };
  }
  try {
    if (req.panic_for_test) throw new WebAssembly.RuntimeError('unreachable (test panic)');
    const bytes = await parse(req.text);
    return { id: req.id, wasm: Buffer.from(bytes).toString('base64') };
  } catch (e) {
    if (isParseError(e)) {
      return { id: req.id, error: String(e.payload) };
    }
    parse = await freshParser();
    return { id: req.id, crash: String((e && e.stack) || e), generation };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let reply;
  try {
    reply = await encode(JSON.parse(line));
  } catch (e) {
    reply = { id: null, crash: `bad request: ${e}` };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
