// The V8 side of the differential execution fuzzer (tools/fuzz/diff_exec.py): the same
// output as diff_ref.c for the modules named in the JSON file argv[2]:
//   [{"path": FILE, "sigs": [[NAME, PARAMS, RESULTS], ...]}, ...]   (diff_ref's sig lines)
// Each function export (skipping hangLimitInitializer and signatures with references, and
// with v128 unless argv[3] is --simd) is called with zero arguments of its parameter types,
// hangLimitInitializer first. A RangeError (stack overflow) is `exhaustion`, any other
// exception `trap`.
// With --simd, the JS API's lack of v128 is bridged by small Wasm modules, as
// harness/engines/node_worker.js does: `log-v128` is a Wasm function handing the value's four
// i32 lanes to a JS import, and an export with v128 in its signature is called by a Wasm
// wrapper that passes the zero arguments itself and stores the results (bits intact) into
// its own memory, which JS then reads.
'use strict';
const fs = require('fs');

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);

function show(t, v) {
  switch (t) {
    case 'i': return ` i32:${v >>> 0}`;
    case 'I': return ` i64:${BigInt.asUintN(64, v)}`;
    case 'f': f32[0] = v; return Number.isNaN(v) ? ' f32:nan' : ` f32:${u32[0].toString(16).padStart(8, '0')}`;
    case 'F': f64[0] = v; return Number.isNaN(v) ? ' f64:nan' : ` f64:${u64[0].toString(16).padStart(16, '0')}`;
    default: return ' ref';
  }
}

const hex = (n, w) => n.toString(16).padStart(w, '0');
const showV128 = (lanes) => ` v128:${lanes.map((x) => hex(x >>> 0, 8)).join('_')}`;

// ---- Wasm modules bridging v128 (--simd) -----------------------------------------------
const VALTYPE = { i: 0x7f, I: 0x7e, f: 0x7d, F: 0x7c, v: 0x7b };
const ZERO = { i: [0x41, 0], I: [0x42, 0], f: [0x43, 0, 0, 0, 0], F: [0x44, ...Array(8).fill(0)],
               v: [0xfd, 0x0c, ...Array(16).fill(0)] };
const STORE = { i: [0x36, 2, 0], I: [0x37, 3, 0], f: [0x38, 2, 0], F: [0x39, 3, 0],
                v: [0xfd, 11, 4, 0] };  // *.store align offset=0; v128.store is 0xfd 11
function uleb(n) {
  const b = [];
  do { let x = n & 0x7f; n >>>= 7; if (n) x |= 0x80; b.push(x); } while (n);
  return b;
}
function sleb(n) {
  const b = [];
  for (;;) {
    const x = n & 0x7f; n >>= 7;
    if ((n === 0 && !(x & 0x40)) || (n === -1 && (x & 0x40))) { b.push(x); return b; }
    b.push(x | 0x80);
  }
}
const vec = (items) => [...uleb(items.length), ...items.flat()];
const str = (s) => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
const section = (id, body) => [id, ...uleb(body.length), ...body];
const letters = (s) => (s === '-' ? [] : [...s]);
const types = (cs) => vec(cs.map((c) => [VALTYPE[c]]));
const functype = (p, r) => [0x60, ...types(p), ...types(r)];

// A module importing m.f of type `imported`, exporting `run` (function 1, of type `own`,
// with `locals` and `body`) and, when `memory`, its one-page memory as `mem`.
function bridge(imported, own, locals, body, memory) {
  const fn = [...vec(locals.map((c) => [1, VALTYPE[c]])), ...body, 0x0b];
  const exports = [[...str('run'), 0x00, 1], ...(memory ? [[...str('mem'), 0x02, 0]] : [])];
  return new WebAssembly.Module(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([imported, own])), ...section(2, vec([[...str('m'), ...str('f'), 0x00, 0]])),
    ...section(3, vec([[1]])), ...(memory ? section(5, vec([[0x00, 1]])) : []),
    ...section(7, vec(exports)), ...section(10, vec([[...uleb(fn.length), ...fn]]))]));
}

// log-v128: (v128) -> () calling m.f(lane0, lane1, lane2, lane3) (i32x4.extract_lane).
function logV128(print) {
  const body = [];
  for (let k = 0; k < 4; k++) body.push(0x20, 0, 0xfd, 27, k);
  body.push(0x10, 0);
  const m = bridge(functype(['i', 'i', 'i', 'i'], []), functype(['v'], []), [], body, false);
  return new WebAssembly.Instance(m, { m: { f: print } }).exports.run;
}

// () -> () calling m.f (of the export's type) with zero arguments; result k goes to memory
// offset 16k. Compiled once per signature.
const wrappers = new Map();
function wrapper(params, results) {
  const key = `${params} ${results}`;
  if (!wrappers.has(key)) {
    const p = letters(params), r = letters(results);
    const body = [...p.flatMap((c) => ZERO[c]), 0x10, 0];
    for (let k = r.length - 1; k >= 0; k--) body.push(0x21, ...uleb(k));
    r.forEach((c, k) => body.push(0x41, ...sleb(16 * k), 0x20, ...uleb(k), ...STORE[c]));
    wrappers.set(key, bridge(functype(p, r), functype([], []), r, body, true));
  }
  return wrappers.get(key);
}

function callWrapped(fn, params, results) {
  const w = new WebAssembly.Instance(wrapper(params, results), { m: { f: fn } }).exports;
  w.run();
  const view = new DataView(w.mem.buffer);
  return letters(results).map((c, k) => {
    const o = 16 * k;
    switch (c) {
      case 'i': return show('i', view.getUint32(o, true));
      case 'I': return show('I', view.getBigUint64(o, true));
      case 'f': return show('f', view.getFloat32(o, true));  // NaN bits do not matter: `nan`
      case 'F': return show('F', view.getFloat64(o, true));
      default: return showV128([0, 4, 8, 12].map((b) => view.getUint32(o + b, true)));
    }
  }).join('');
}

function showResults(r, results) {
  if (results === '-') return '';
  if (results.length === 1) return show(results, r);
  return [...results].map((c, k) => show(c, r[k])).join('');
}

const simd = process.argv[3] === '--simd';
const out = [];
const log = (t) => (v) => { out.push('log' + show(t, v)); };
const imports = { 'fuzzing-support': { 'log-i32': log('i'), 'log-i64': log('I'), 'log-f32': log('f'), 'log-f64': log('F') } };
if (simd) {
  imports['fuzzing-support']['log-v128'] =
    logV128((a, b, c, d) => { out.push('log' + showV128([a, b, c, d])); });
}

for (const m of JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))) {
  out.push(`module ${m.path}`);
  let inst;
  try {
    inst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(m.path)), imports);
  } catch (e) {
    out.push(`error ${e.constructor.name} ${String(e.message).split('\n')[0]}`);
    continue;
  }
  const hang = inst.exports.hangLimitInitializer;
  for (const [name, params, results] of m.sigs) {
    if (name === 'hangLimitInitializer' || /r/.test(params + results)) continue;
    const wrapped = /v/.test(params + results);
    if (wrapped && !simd) continue;
    const args = params === '-' ? [] : [...params].map((c) => (c === 'I' ? 0n : 0));
    let line = `call ${name} ->`;
    try {
      if (hang) hang();
      if (wrapped) line += callWrapped(inst.exports[name], params, results);
      else line += showResults(inst.exports[name](...args), results);
    } catch (e) {
      line += e instanceof RangeError ? ' exhaustion' : ' trap';
    }
    out.push(line);
  }
}
process.stdout.write(out.join('\n') + '\n');
