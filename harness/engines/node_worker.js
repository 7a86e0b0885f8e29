// The `node` engine: core WebAssembly on V8 through the WebAssembly JS API, speaking the
// JSON-lines worker protocol of PROTOCOL.md on stdin/stdout.
//
// Values never cross the JS boundary as JS numbers: every invoke goes through a small
// "thunk" module (built here, cached per signature) that takes each float as its bit pattern
// (f32 as i32, f64 as i64), each v128 as four i32 lanes, calls the export Wasm-to-Wasm, and
// stores the results into its own memory (references into its own tables). So NaN payloads
// stay bit-exact and v128 signatures work although the JS API itself rejects v128.
// Needs `--experimental-wasm-type-reflection` (export signatures).
'use strict';
const fs = require('fs');

// ---- a tiny binary encoder for the thunk modules ----------------------------------------
const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b,
                  funcref: 0x70, anyfunc: 0x70, externref: 0x6f };
function uleb(n) { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; }
function sleb(n) {
  const out = [];
  for (;;) { const b = n & 0x7f; n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && (b & 0x40))) { out.push(b); return out; }
    out.push(b | 0x80); }
}
function vec(items) { return [...uleb(items.length), ...items.flat()]; }
function name(s) { const b = Buffer.from(s, 'utf8'); return [...uleb(b.length), ...b]; }
function section(id, body) { return [id, ...uleb(body.length), ...body]; }
function functype(params, results) {
  return [0x60, ...vec(params.map(t => [VALTYPE[t]])), ...vec(results.map(t => [VALTYPE[t]]))];
}
const isRef = t => t === 'externref' || t === 'funcref' || t === 'anyfunc';
// How a value of type t is passed into the thunk: bit patterns for floats, lanes for v128.
const CARRIER = { i32: ['i32'], i64: ['i64'], f32: ['i32'], f64: ['i64'],
                  v128: ['i32', 'i32', 'i32', 'i32'], externref: ['externref'],
                  funcref: ['funcref'], anyfunc: ['funcref'] };
const STORE = { i32: [0x36, 2, 0], i64: [0x37, 3, 0], f32: [0x38, 2, 0], f64: [0x39, 3, 0],
                v128: [0xfd, ...uleb(11), 4, 0] };
const REFTABLE = { externref: 0, funcref: 1, anyfunc: 1 };

// Code that leaves results r[i] (held in locals base+i) in memory slot i / table slot i.
function storeResults(results, base) {
  const code = [];
  results.forEach((t, i) => {
    if (isRef(t)) code.push(0x41, ...sleb(i), 0x20, ...uleb(base + i), 0x26, REFTABLE[t]);
    else code.push(0x41, ...sleb(16 * i), 0x20, ...uleb(base + i), ...STORE[t]);
  });
  return code;
}

function thunkModule(importDesc, carriers, locals, body) {
  const nslots = Math.max(4, locals.length);
  const bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(importDesc.types)),
    ...section(2, vec([[...name('m'), ...name('x'), ...importDesc.desc]])),
    ...section(3, vec([uleb(importDesc.thunkType)])),
    ...section(4, vec([[0x6f, 0x00, ...uleb(nslots)], [0x70, 0x00, ...uleb(nslots)]])),
    ...section(5, vec([[0x00, ...uleb(1 + ((16 * nslots) >> 16))]])),
    ...section(7, vec([[...name('run'), 0x00, ...uleb(importDesc.funcIndex)],
                       [...name('mem'), 0x02, 0x00],
                       [...name('xt'), 0x01, 0x00], [...name('ft'), 0x01, 0x01]])),
  ];
  const fn = [...vec(locals.map(t => [1, VALTYPE[t]])), ...body, 0x0b];
  bytes.push(...section(10, vec([[...uleb(fn.length), ...fn]])));
  return new WebAssembly.Module(Uint8Array.from(bytes));
}

// Thunk calling an imported function of type (params) -> (results).
function funcThunk(params, results) {
  const carriers = params.flatMap(t => CARRIER[t]);
  const body = [];
  let k = 0;
  for (const t of params) {
    if (t === 'v128') {
      body.push(0xfd, ...uleb(12), ...new Array(16).fill(0));
      for (let lane = 0; lane < 4; lane++) body.push(0x20, ...uleb(k++), 0xfd, ...uleb(28), lane);
    } else {
      body.push(0x20, ...uleb(k++));
      if (t === 'f32') body.push(0xbe);
      if (t === 'f64') body.push(0xbf);
    }
  }
  body.push(0x10, 0x00);
  for (let i = results.length - 1; i >= 0; i--) body.push(0x21, ...uleb(carriers.length + i));
  body.push(...storeResults(results, carriers.length));
  const types = [functype(params, results), functype(carriers, [])];
  return thunkModule({ types, desc: [0x00, 0x00], thunkType: 1, funcIndex: 1 },
                     carriers, results, body);
}

// Thunk reading an imported global of type t.
function globalThunk(t, mutable) {
  const body = [0x23, 0x00, 0x21, 0x00, ...storeResults([t], 0)];
  const types = [functype([], [])];
  return thunkModule({ types, desc: [0x03, VALTYPE[t], mutable ? 1 : 0], thunkType: 0, funcIndex: 0 },
                     [], [t], body);
}

const thunkModules = new Map();   // signature key -> WebAssembly.Module
const thunkOf = new WeakMap();    // export (function or Global) -> {run, mem, xt, ft, type}
function thunkFor(exp, kind) {
  let th = thunkOf.get(exp);
  if (th) return th;
  let type, key, make;
  if (kind === 'function') {
    type = WebAssembly.Function.type(exp);
    key = 'f' + type.parameters.join(',') + '>' + type.results.join(',');
    make = () => funcThunk(type.parameters, type.results);
  } else {
    type = exp.type();
    key = 'g' + type.value + (type.mutable ? 'm' : '');
    make = () => globalThunk(type.value, type.mutable);
  }
  let mod = thunkModules.get(key);
  if (!mod) { mod = make(); thunkModules.set(key, mod); }
  const inst = new WebAssembly.Instance(mod, { m: { x: exp } });
  const e = inst.exports;
  th = { run: e.run, mem: e.mem, xt: e.xt, ft: e.ft, type,
         results: kind === 'function' ? type.results : [type.value] };
  thunkOf.set(exp, th);
  return th;
}

// ---- values --------------------------------------------------------------------------
const hostRefs = new Map();       // externref n -> a unique host object
function hostRef(n) {
  let r = hostRefs.get(n);
  if (!r) { r = { externref: n }; hostRefs.set(n, r); }
  return r;
}
const LANES = { i8: [1, 16], i16: [2, 8], i32: [4, 4], i64: [8, 2], f32: [4, 4], f64: [8, 2] };

function argCarriers(v) {
  switch (v.type) {
    case 'i32': case 'f32': return [Number(BigInt.asIntN(32, BigInt(v.value)))];
    case 'i64': case 'f64': return [BigInt.asIntN(64, BigInt(v.value))];
    case 'externref': return [v.value === 'null' ? null : hostRef(v.value)];
    case 'funcref': if (v.value === 'null') return [null]; break;
    case 'v128': {
      const [size, n] = LANES[v.lane_type];
      const buf = Buffer.alloc(16);
      for (let i = 0; i < n; i++) {
        const x = BigInt.asUintN(8 * size, BigInt(v.value[i]));
        for (let b = 0; b < size; b++) buf[i * size + b] = Number((x >> BigInt(8 * b)) & 0xffn);
      }
      return [0, 4, 8, 12].map(o => buf.readInt32LE(o));
    }
  }
  throw new Fatal(`cannot pass argument ${JSON.stringify(v)}`);
}

function readResults(th) {
  const view = new DataView(th.mem.buffer);
  return th.results.map((t, i) => {
    const o = 16 * i;
    switch (t) {
      case 'i32': case 'f32': return { type: t, value: String(view.getUint32(o, true)) };
      case 'i64': case 'f64': return { type: t, value: String(view.getBigUint64(o, true)) };
      case 'v128': return { type: 'v128', lane_type: 'i32',
                            value: [0, 4, 8, 12].map(k => String(view.getUint32(o + k, true))) };
      case 'externref': {
        const r = th.xt.get(i);
        if (r === null) return { type: 'externref', value: 'null' };
        return { type: 'externref', value: r && r.externref !== undefined ? r.externref : 'host' };
      }
      default: {
        const r = th.ft.get(i);
        return { type: 'funcref', value: r === null ? 'null' : 'func' };
      }
    }
  });
}

// ---- the engine state ------------------------------------------------------------------
class Fatal extends Error {}
class Failure extends Error { constructor(kind, message) { super(message); this.kind = kind; } }

const SPECTEST = Buffer.from(
  'AGFzbQEAAAABHgdgAABgAX8AYAF+AGABfQBgAXwAYAJ/fQBgAnx8AAJuBwJqcwVwcmludAAAAmpzCXByaW50X2kzMgAB' +
  'AmpzCXByaW50X2k2NAACAmpzCXByaW50X2YzMgADAmpzCXByaW50X2Y2NAAEAmpzDXByaW50X2kzMl9mMzIABQJqcw1w' +
  'cmludF9mNjRfZjY0AAYEBQFwAQoUBQQBAQECBiEEfwBBmgULfgBCmgULfQBDZqYmRAt8AETNzMzMzNSEQAsHngENBXBy' +
  'aW50AAAJcHJpbnRfaTMyAAEJcHJpbnRfaTY0AAIJcHJpbnRfZjMyAAMJcHJpbnRfZjY0AAQNcHJpbnRfaTMyX2YzMgAF' +
  'DXByaW50X2Y2NF9mNjQABgpnbG9iYWxfaTMyAwAKZ2xvYmFsX2k2NAMBCmdsb2JhbF9mMzIDAgpnbG9iYWxfZjY0AwMF' +
  'dGFibGUBAAZtZW1vcnkCAA==', 'base64');  // wat2wasm of the spec's spectest module (see README)
const noop = () => {};
function spectest() {
  const js = {};
  for (const f of ['print', 'print_i32', 'print_i64', 'print_f32', 'print_f64',
                   'print_i32_f32', 'print_f64_f64']) js[f] = noop;
  return new WebAssembly.Instance(new WebAssembly.Module(SPECTEST), { js }).exports;
}

let modules, instances, registry;
function reset() {
  modules = []; instances = [];
  registry = new Map([['spectest', spectest()]]);
}

function isStackOverflow(e) { return e instanceof RangeError && /call stack/i.test(e.message); }

function load(req) {
  if (req.component) throw new Unsupported('node runs core modules only, not components');
  const bytes = fs.readFileSync(req.path);
  let m;
  try { m = new WebAssembly.Module(bytes); }
  catch (e) {
    if (e instanceof WebAssembly.CompileError)
      // The JS API has one CompileError for decoding and validation: either kind matches.
      throw Object.assign(new Failure('invalid', e.message), { alt: ['malformed'] });
    throw e;
  }
  modules.push(m);
  return { module: modules.length - 1 };
}

function instantiate(req) {
  const m = modules[req.module];
  if (!m) throw new Fatal(`no module ${req.module}`);
  const imports = {};
  for (const imp of WebAssembly.Module.imports(m)) {
    const ex = registry.get(imp.module);
    if (!ex || !Object.prototype.hasOwnProperty.call(ex, imp.name))
      throw new Failure('unlinkable', `unknown import ${imp.module}.${imp.name}`);
    (imports[imp.module] ??= {})[imp.name] = ex[imp.name];
  }
  let inst;
  try { inst = new WebAssembly.Instance(m, imports); }
  catch (e) {
    if (e instanceof WebAssembly.LinkError) throw new Failure('unlinkable', e.message);
    if (e instanceof WebAssembly.RuntimeError) throw new Failure('uninstantiable', e.message);
    if (isStackOverflow(e)) throw new Failure('exhaustion', e.message);
    throw e;
  }
  instances.push(inst.exports);
  return { instance: instances.length - 1 };
}

function exportOf(req, kind) {
  const ex = instances[req.instance];
  if (!ex) throw new Fatal(`no instance ${req.instance}`);
  const x = ex[req.field];
  if (x === undefined) throw new Failure('unlinkable', `unknown export ${req.field}`);
  if (kind === 'function' ? typeof x !== 'function' : !(x instanceof WebAssembly.Global))
    throw new Fatal(`export ${req.field} is not a ${kind}`);
  return x;
}

function invoke(req) {
  const th = thunkFor(exportOf(req, 'function'), 'function');
  const args = req.args.flatMap(argCarriers);
  try { th.run(...args); }
  catch (e) {
    if (e instanceof WebAssembly.RuntimeError) throw new Failure('trap', e.message);
    if (isStackOverflow(e)) throw new Failure('exhaustion', e.message);
    throw e;
  }
  return { results: readResults(th) };
}

function get(req) {
  const th = thunkFor(exportOf(req, 'global'), 'global');
  th.run();
  return { results: readResults(th) };
}

class Unsupported extends Error {}
const OPS = {
  version: () => ({ version: `node ${process.version} (V8 ${process.versions.v8})` }),
  reset: () => { reset(); return {}; },
  load, instantiate, invoke, get,
  register: req => {
    const ex = instances[req.instance];
    if (!ex) throw new Fatal(`no instance ${req.instance}`);
    registry.set(req.as, ex);
    return {};
  },
};

function handle(line) {
  let req;
  try { req = JSON.parse(line); } catch (e) { return { id: null, fatal: `bad request: ${e.message}` }; }
  const op = OPS[req.op];
  if (!op) return { id: req.id, fatal: `unknown op ${req.op}` };
  try { return { id: req.id, ok: op(req) }; }
  catch (e) {
    if (e instanceof Failure) {
      const error = { kind: e.kind, message: e.message };
      if (e.alt) error.alt = e.alt;
      return { id: req.id, error };
    }
    if (e instanceof Unsupported) return { id: req.id, unsupported: e.message };
    return { id: req.id, fatal: `${e.constructor.name}: ${e.message}` };
  }
}

reset();
process.stdin.setEncoding('utf8');
let pending = '';
process.stdin.on('data', chunk => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop();
  let out = '';
  for (const line of lines) if (line) out += JSON.stringify(handle(line)) + '\n';
  if (out) writeAll(out);
});

function writeAll(text) {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length) {
    try { buf = buf.subarray(fs.writeSync(1, buf)); }
    catch (e) { if (e.code !== 'EAGAIN') throw e; }
  }
}
