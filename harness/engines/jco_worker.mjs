// The `jco` engine: components through jco (the Bytecode Alliance's JavaScript toolchain),
// speaking the JSON-lines worker protocol of PROTOCOL.md on stdin/stdout.
//
// A component is transpiled as `transpileBytes` of @bytecodealliance/jco-transpile does it
// (the newest release, 0.15.0, installed as `jco-transpile-engine` in tools/package.json
// beside the 0.14.0 the front-end's parser uses): its bindgen's `generate` in `sync`
// instantiation mode, called on our own bindgen instance so that a panic inside jco (a trap
// of its Rust-compiled Wasm) can be recovered from. The generated ES module exports
// `instantiate(getCoreModule, imports)`: the imports are instances registered earlier in the
// script and wasmtime's test host (`host`, `host-return-two`, `host-echo-u32`). Values cross
// in jco's JS representation (records camelCase, variants {tag, val}, results thrown as
// ComponentError, flags as objects, resources as class instances, s64/u64 BigInt); results
// are typed by the component's WIT (wasm-tools' `componentWit`, same jco release).
//
// Verdicts: wasmparser's errors (they carry "(at offset 0x..)") are malformed when they are
// decoding errors, else invalid; what jco cannot express (bindgen limits, validator features
// jco leaves off, generated code needing JSPI, which node 20 lacks) is `unsupported`, a skip
// with jco's reason. Exceptions from an export call are traps with jco's message as is
// (RangeError "call stack" is exhaustion). wasmtime's linker checks are approximated from the
// WIT (every world import present, of the right sort, with its functions) and, for root
// core-module imports (which WIT cannot express), from the binary's import section; resource
// type identity across instances is not checked.
// Core modules are run on node's WebAssembly directly (plain JS numbers: NaN payloads are
// not preserved bit-exactly; the component suites' core modules are rare).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const TOOLS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../tools');
const PKG = 'jco-transpile-engine';
const BASE = path.join(TOOLS, 'node_modules', PKG);
let jcoVersion, generation = 0, bindgen = null, wasmTools = null;

// jco's bindgen and wasm-tools are themselves components (Rust compiled to Wasm): after a
// panic their instance traps on every later call ("cannot enter component instance"), so a
// fresh instance is made after any trap (a query string makes node evaluate the module anew).
async function fresh(file) {
  generation += 1;
  const mod = await import(pathToFileURL(path.join(BASE, 'vendor', file)).href + `?g=${generation}`);
  await mod.$init;
  return mod;
}
async function loadJco() {
  jcoVersion = JSON.parse(fs.readFileSync(path.join(BASE, 'package.json'), 'utf8')).version;
  bindgen = await fresh('js-component-bindgen-component.js');
  wasmTools = await fresh('wasm-tools.js');
}
const isPanic = e => e instanceof WebAssembly.RuntimeError || /cannot enter component instance/.test(String(e && e.message));

// What transpileBytes(bytes, {instantiation: 'sync', noComponentErrorWrapping: false,
// emitTypescriptDeclarations: false}) does (jco-transpile dist/transpile.js), on our own
// bindgen instance so that a panic can be recovered from.
const GENERATE_OPTS = {
  name: 'component', map: [], instantiation: { tag: 'sync' }, asyncMode: undefined,
  importBindings: undefined, validLiftingOptimization: false, tracing: false,
  noComponentErrorWrapping: false, noNodejsCompat: false, noTypescript: true, tlaCompat: false,
  base64Cutoff: 5000, noNamespacedExports: false, multiMemory: false,
  bindgenEnableWasmExnref: false, strict: false, flagsAsBigint: false, variantsInlineCases: false,
  useNamespaceObjects: false, enumValuesScreamingSnakeCase: false, idlImports: false, asmjs: false,
};
async function transpile(bytes) {
  try {
    const g = bindgen.generate(bytes, GENERATE_OPTS);
    return { files: Object.fromEntries(g.files), imports: g.imports, exports: g.exports };
  } catch (e) {
    if (isPanic(e)) {
      bindgen = await fresh('js-component-bindgen-component.js');
      throw new Unsupported(`jco's bindgen panicked on this component: ${e.message}`);
    }
    throw classifyTranspileError(e, bytes);
  }
}
async function componentWit(bytes) {
  try { return wasmTools.tools.componentWit(bytes); }
  catch (e) { if (isPanic(e)) wasmTools = await fresh('wasm-tools.js'); throw e; }
}

class Fatal extends Error {}
class Unsupported extends Error {}
class Failure extends Error { constructor(kind, message) { super(message); this.kind = kind; } }

// ---- WIT (componentWit's output) -> function types ------------------------------------
function tokenize(text) {
  const re = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|(->|[{}()<>,;:=*.\/@])|(%?[A-Za-z0-9_\-]+)/y;
  const out = [];
  let m;
  re.lastIndex = 0;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1]) out.push(m[1]);
    else if (m[2]) out.push(m[2].replace(/^%/, ''));
  }
  return out;
}

// Returns {funcs: Map name -> {params, result}, instances: Map name -> Map funcs}, types
// are {k: 'prim', n} | {k: 'list', t} | {k: 'option', t} | {k: 'result', ok, err} |
// {k: 'tuple', ts} | {k: 'record', fields: [[name, t]]} | {k: 'variant', cases: [[n, t?]]} |
// {k: 'enum', names} | {k: 'flags', names} | {k: 'own'|'borrow', r} | {k: 'ref', scope, n}.
function parseWit(text) {
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  const expect = t => { if (toks[i] !== t) throw new Error(`WIT: expected ${t} at ${toks[i]}`); i++; };
  const scopes = new Map();   // scope name -> Map type name -> type
  const ifaceFuncs = new Map();   // interface name -> Map funcs
  const world = { funcs: new Map(), instances: new Map(), imports: new Map() };
  function skipGate() { while (peek() === '@') { next(); next(); if (peek() === '(') skipParens(); } }
  function skipParens() {
    let depth = 0;
    do { const t = next(); if (t === '(' || t === '{') depth++; else if (t === ')' || t === '}') depth--; }
    while (depth > 0 && i < toks.length);
  }
  function skipTo(t) { while (i < toks.length && toks[i] !== t) i++; i++; }
  function pathName() {   // ns:pkg/iface@1.2.3 or iface -> iface
    let last = next();
    while (peek() === ':' || peek() === '/' || peek() === '@' || peek() === '.') {
      const sep = next();
      if (peek() === '{') { i--; break; }
      const t = next();
      if (sep === '/' || sep === ':') last = t;
      else if (sep === '@') { while (peek() === '.' && /^[0-9]/.test(toks[i + 1] ?? '')) { next(); next(); } }
      else if (sep === '.') { i -= 2; break; }
    }
    return last;
  }
  function type(scope) {
    const n = next();
    const args = () => { const ts = []; expect('<'); while (peek() !== '>') { ts.push(peek() === '_' ? (next(), null) : type(scope)); if (peek() === ',') next(); } next(); return ts; };
    switch (n) {
      case 'list': { const ts = args(); return { k: 'list', t: ts[0] }; }
      case 'option': return { k: 'option', t: args()[0] };
      case 'tuple': return { k: 'tuple', ts: args() };
      case 'result': {
        if (peek() !== '<') return { k: 'result', ok: null, err: null };
        const ts = args();
        return { k: 'result', ok: ts[0], err: ts[1] ?? null };
      }
      case 'borrow': return { k: 'borrow', r: args()[0] };
      case 'own': return { k: 'own', r: args()[0] };
      case 'future': case 'stream': if (peek() === '<') args(); return { k: n };
      case 'bool': case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32':
      case 's64': case 'u64': case 'f32': case 'f64': case 'char': case 'string':
      case 'error-context':
        return { k: 'prim', n };
      case 'float32': return { k: 'prim', n: 'f32' };
      case 'float64': return { k: 'prim', n: 'f64' };
      default: return { k: 'ref', scope, n };
    }
  }
  function func(scope) {
    if (peek() === 'async') next();
    expect('func'); expect('(');
    const params = [];
    while (peek() !== ')') { const n = next(); expect(':'); params.push([n, type(scope)]); if (peek() === ',') next(); }
    next();
    let result = null;
    if (peek() === '->') { next(); result = type(scope); }
    expect(';');
    return { params, result };
  }
  function list(item) { expect('{'); const out = []; while (peek() !== '}') { skipGate(); if (peek() === '}') break; out.push(item()); if (peek() === ',') next(); } next(); return out; }
  function items(scopeName, funcs, isWorld) {
    const types = new Map();
    scopes.set(scopeName, types);
    expect('{');
    while (peek() !== '}' && i < toks.length) {
      skipGate();
      const t = next();
      if (t === 'use') {
        const from = pathName();
        expect('.');
        for (const [orig, as] of list(() => { const o = next(); let a = o; if (peek() === 'as') { next(); a = next(); } return [o, a]; }))
          types.set(as, { k: 'ref', scope: from, n: orig });
        if (peek() === ';') next();
      } else if (t === 'type') {
        const n = next(); expect('='); types.set(n, type(scopeName)); expect(';');
      } else if (t === 'record') {
        const n = next(); types.set(n, { k: 'record', fields: list(() => { const f = next(); expect(':'); return [f, type(scopeName)]; }) });
      } else if (t === 'variant') {
        const n = next(); types.set(n, { k: 'variant', cases: list(() => { const c = next(); if (peek() === '(') { next(); const ty = type(scopeName); expect(')'); return [c, ty]; } return [c, null]; }) });
      } else if (t === 'enum') {
        const n = next(); types.set(n, { k: 'enum', names: list(() => next()) });
      } else if (t === 'flags') {
        const n = next(); types.set(n, { k: 'flags', names: list(() => next()) });
      } else if (t === 'resource') {
        const n = next(); types.set(n, { k: 'resource', n });
        if (peek() === '{') skipParens(); else expect(';');
      } else if (t === 'include') {
        skipTo(';');
      } else if (isWorld && (t === 'export' || t === 'import')) {
        const save = i;
        const n = next();
        if (peek() === ':' && (toks[i + 1] === 'func' || toks[i + 1] === 'async' || toks[i + 1] === 'interface')) {
          next();
          if (peek() === 'interface') {
            next();
            const fs2 = new Map();
            items(n, fs2, false);
            if (t === 'export') world.instances.set(n, fs2);
            else world.imports.set(n, { kind: 'instance', funcs: fs2 });
          } else {
            const f = func(scopeName);
            if (t === 'export') world.funcs.set(n, f);
            else world.imports.set(n, { kind: 'func' });
          }
        } else {
          i = save;
          let raw = '';
          while (i < toks.length && toks[i] !== ';') raw += toks[i++];
          i = save;
          const name = pathName();
          if (t === 'export') world.instances.set(name, { ref: name });
          else world.imports.set(raw, { kind: 'instance', ref: name });
          skipTo(';');
        }
      } else if (toks[i] === ':') {
        next();
        funcs.set(t, func(scopeName));
      } else {
        throw new Error(`WIT: unexpected ${t}`);
      }
    }
    next();
  }
  while (i < toks.length) {
    skipGate();
    const t = next();
    if (t === 'package') { skipTo(';'); if (toks[i - 1] !== ';') break; }
    else if (t === 'interface') { const n = next(); const fs2 = new Map(); ifaceFuncs.set(n, fs2); items(n, fs2, false); }
    else if (t === 'world') { next(); items('$world', world.funcs, true); }
    else if (t === undefined) break;
    else throw new Error(`WIT: unexpected ${t}`);
  }
  for (const [n, v] of world.instances) if (v.ref) world.instances.set(n, ifaceFuncs.get(v.ref) ?? new Map());
  for (const v of world.imports.values()) if (v.ref) v.funcs = ifaceFuncs.get(v.ref) ?? new Map();
  return { scopes, funcs: world.funcs, instances: world.instances, imports: world.imports };
}

function resolveType(wit, t) {
  for (let hops = 0; t && t.k === 'ref' && hops < 64; hops++) {
    const s = wit.scopes.get(t.scope);
    const nt = s && s.get(t.n);
    if (!nt) throw new Unsupported(`jco engine: cannot resolve WIT type ${t.scope}.${t.n}`);
    t = nt;
  }
  return t;
}

// ---- values ------------------------------------------------------------------------------
const camel = s => s.split('-').map((p, k) => k === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1)).join('');
const f32buf = new DataView(new ArrayBuffer(8));
let handles, handleOf;   // handle n -> resource object; resource object -> n

function toJs(v) {
  switch (v.type) {
    case 'bool': return v.value;
    case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32': return Number(v.value);
    case 's64': case 'u64': return BigInt(v.value);
    case 'f32': f32buf.setUint32(0, Number(BigInt.asUintN(32, BigInt(v.value)))); return f32buf.getFloat32(0);
    case 'f64': f32buf.setBigUint64(0, BigInt.asUintN(64, BigInt(v.value))); return f32buf.getFloat64(0);
    case 'char': case 'string': return v.value;
    case 'list': case 'tuple': return v.value.map(toJs);
    case 'record': return Object.fromEntries(v.value.map(([n, x]) => [camel(n), toJs(x)]));
    case 'variant': return v.value.payload === undefined ? { tag: v.value.case } : { tag: v.value.case, val: toJs(v.value.payload) };
    case 'enum': return v.value;
    case 'option': {
      if (v.value === null) return undefined;
      return v.value.type === 'option' ? { tag: 'some', val: toJs(v.value) } : toJs(v.value);
    }
    case 'result': {
      const [tag, x] = 'Ok' in v.value ? ['ok', v.value.Ok] : ['err', v.value.Err];
      return x === null || x === undefined ? { tag } : { tag, val: toJs(x) };
    }
    case 'flags': return Object.fromEntries(v.value.map(n => [camel(n), true]));
    case 'own': case 'borrow': {
      const r = handles.get(Number(v.value));
      if (r === undefined) throw new Unsupported(`jco engine: unknown resource handle ${v.value}`);
      return r;
    }
  }
  throw new Unsupported(`jco engine: cannot pass a ${v.type} argument`);
}

function fromJs(wit, ty, x) {
  const t = resolveType(wit, ty);
  switch (t.k) {
    case 'prim':
      switch (t.n) {
        case 'bool': return { type: 'bool', value: Boolean(x) };
        case 's64': case 'u64': case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32':
          return { type: t.n, value: String(x) };
        case 'f32': f32buf.setFloat32(0, x); return { type: 'f32', value: String(f32buf.getUint32(0)) };
        case 'f64': f32buf.setFloat64(0, x); return { type: 'f64', value: String(f32buf.getBigUint64(0)) };
        case 'char': case 'string': return { type: t.n, value: x };
      }
      break;
    case 'list': return { type: 'list', value: Array.from(x, e => fromJs(wit, t.t, e)) };
    case 'tuple': return { type: 'tuple', value: t.ts.map((et, k) => fromJs(wit, et, x[k])) };
    case 'record': return { type: 'record', value: t.fields.map(([n, ft]) => [n, fromJs(wit, ft, x[camel(n)])]) };
    case 'variant': {
      const c = t.cases.find(([n]) => n === x.tag);
      if (!c) return { type: 'variant', value: { case: String(x.tag) } };
      return { type: 'variant', value: c[1] ? { case: c[0], payload: fromJs(wit, c[1], x.val) } : { case: c[0] } };
    }
    case 'enum': return { type: 'enum', value: x };
    case 'flags': return { type: 'flags', value: t.names.filter(n => x[camel(n)]) };
    case 'option': {
      const inner = resolveType(wit, t.t);
      if (inner.k === 'option') {
        if (x === undefined || x === null || x.tag === 'none') return { type: 'option', value: null };
        return { type: 'option', value: fromJs(wit, t.t, x.tag === 'some' ? x.val : x) };
      }
      return { type: 'option', value: x === undefined || x === null ? null : fromJs(wit, t.t, x) };
    }
    case 'result': {
      const ok = x.tag === 'ok';
      const pt = ok ? t.ok : t.err;
      return { type: 'result', value: { [ok ? 'Ok' : 'Err']: pt ? fromJs(wit, pt, x.val) : null } };
    }
    case 'own': case 'borrow': case 'resource': {
      let n = handleOf.get(x);
      if (n === undefined) { n = handles.size + 1; handles.set(n, x); handleOf.set(x, n); }
      return { type: t.k === 'resource' ? 'own' : t.k, value: String(n) };
    }
  }
  throw new Unsupported(`jco engine: cannot read a ${t.k} ${t.n ?? ''} result`);
}

// ---- core modules (node's WebAssembly, plain JS values) -----------------------------------
function coreToJs(v) {
  switch (v.type) {
    case 'i32': return Number(BigInt.asIntN(32, BigInt(v.value)));
    case 'i64': return BigInt.asIntN(64, BigInt(v.value));
    case 'f32': f32buf.setUint32(0, Number(v.value)); return f32buf.getFloat32(0);
    case 'f64': f32buf.setBigUint64(0, BigInt(v.value)); return f32buf.getFloat64(0);
  }
  throw new Unsupported(`jco engine: core argument of type ${v.type}`);
}
function coreFromJs(t, x) {
  switch (t) {
    case 'i32': return { type: 'i32', value: String(x >>> 0) };
    case 'i64': return { type: 'i64', value: String(BigInt.asUintN(64, x)) };
    case 'f32': f32buf.setFloat32(0, x); return { type: 'f32', value: String(f32buf.getUint32(0)) };
    case 'f64': f32buf.setFloat64(0, x); return { type: 'f64', value: String(f32buf.getBigUint64(0)) };
  }
  throw new Unsupported(`jco engine: core result of type ${t}`);
}

// ---- the engine state --------------------------------------------------------------------
let modules, instances, registry, host, tmpRoot, counter = 0;
function reset() {
  modules = []; instances = []; registry = new Map(); host = makeHost();
  handles = new Map(); handleOf = new Map();
}

const isStackOverflow = e => e instanceof RangeError && /call stack/i.test(e.message);

// jco's transpile errors. wasmparser's (decoding and validation) carry "(at offset 0x..)":
// decoding errors are malformed, the rest invalid. Bytes without the binary magic are read
// as text by jco (wat::parse_bytes): its text errors are malformed too. A validator feature
// jco leaves off, and what jco's bindgen (wit-component's decoding) cannot express, are
// unsupported: jco says nothing about the component's validity.
const DECODE_ERROR = new RegExp([
  'unexpected end-of-file', 'unexpected end$', 'malformed', 'expected a version header', 'invalid leading byte', 'magic header', 'unknown binary version',
  'section size mismatch', 'out of bounds: ', 'unexpected content', 'integer too large',
  'integer representation too long', 'invalid var_', 'invalid utf-8', 'utf-8', 'expected .* byte',
  'section out of order', 'invalid section', 'trailing bytes', 'unknown section',
  'length out of bounds', 'too many', 'invalid (type|value|count|leading)', 'bad magic', 'unknown .* kind', 'invalid .* discriminant',
  'does not start with', 'unsupported .* encoding'].join('|'), 'i');
function classifyTranspileError(e, bytes) {
  const msg = String(e && e.message !== undefined ? e.message : e);
  // (skip reasons without binary offsets, so that the report groups them)
  const flat = msg.split('\n').map(l => l.trim()).filter(Boolean).join(' / ')
    .replace(/ \(at offset 0x[0-9a-f]+\)/g, '');
  const cause = msg.split('\n').map(l => l.trim()).filter(Boolean).slice(-1)[0] ?? '';
  const binary = bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!binary) return new Failure('malformed', msg);
  if (/requires the .*feature|feature .*(not enabled|disabled)|proposal not enabled|support for .* is not enabled/i.test(cause))
    return new Unsupported(`jco's validator has this feature off: ${flat}`);
  if (!/\(at offset 0x[0-9a-f]+\)/.test(cause))
    return new Unsupported(`jco cannot transpile this component: ${flat}`);
  return new Failure(DECODE_ERROR.test(cause) ? 'malformed' : 'invalid', msg);
}

async function load(req) {
  const bytes = fs.readFileSync(req.path);
  if (!req.component) {
    let m;
    try { m = new WebAssembly.Module(bytes); }
    catch (e) {
      if (e instanceof WebAssembly.CompileError)
        throw Object.assign(new Failure('invalid', e.message), { alt: ['malformed'] });
      throw e;
    }
    modules.push({ core: m });
    return { module: modules.length - 1 };
  }
  const out = await transpile(bytes);
  let wit;
  try { wit = parseWit(await componentWit(bytes)); }
  catch (e) { wit = { error: String(e.message ?? e).split('\n').filter(Boolean).join(' / ') }; }
  modules.push({ files: out.files, imports: out.imports, exports: out.exports, wit,
                 moduleImports: rootModuleImports(bytes) });
  return { module: modules.length - 1 };
}

function instantiateCore(m) {
  const imports = {};
  for (const imp of WebAssembly.Module.imports(m.core)) {
    const inst = registry.get(imp.module);
    const ex = inst && (inst.core ?? inst.exports);
    if (!ex || !(imp.name in ex)) throw new Failure('unlinkable', `unknown import ${imp.module}.${imp.name}`);
    (imports[imp.module] ??= {})[imp.name] = ex[imp.name];
  }
  try { return { core: new WebAssembly.Instance(m.core, imports).exports }; }
  catch (e) {
    if (e instanceof WebAssembly.LinkError) throw new Failure('unlinkable', e.message);
    if (e instanceof WebAssembly.RuntimeError) throw new Failure('uninstantiable', e.message);
    if (isStackOverflow(e)) throw new Failure('exhaustion', e.message);
    throw e;
  }
}

// wasmtime's component test host (as ref's interp/component/host.c): root functions
// `host-return-two`, `host-echo-u32` and the instance `host`, in jco's import shapes
// (root functions as `{default}`, instance functions camelCase, resources as classes).
function makeHost() {
  const state = { drops: 0, lastDrop: 0 };
  const dispose = [Symbol.dispose, Symbol.for('dispose')].filter(Boolean);
  class Resource1 {
    constructor(rep) { this.rep = rep; }
    static assert(r, rep) { if (r.rep !== rep) throw new Error('host function `[static]resource1.assert`: assertion failed (rep mismatch)'); }
    static lastDrop() { return state.lastDrop; }
    static drops() { return state.drops; }
    simple(rep) { if (this.rep !== rep) throw new Error('host function `[method]resource1.simple`: assertion failed (rep mismatch)'); }
    takeBorrow() {}
    takeOwn() {}
  }
  for (const d of dispose) Resource1.prototype[d] = function () { state.drops++; state.lastDrop = this.rep; };
  class Resource2 { constructor(rep) { this.rep = rep; } }
  return new Map([
    ['host-return-two', { exports: { default: () => 2 }, host: true, sort: 'func' }],
    ['host-echo-u32', { exports: { default: x => x }, host: true, sort: 'func' }],
    ['host', { exports: { returnThree: () => 3, returnHi: () => 'hi', Resource1, Resource2 },
               host: true }],
  ]);
}

// What wasmtime's linker checks and jco does not (it asks only for the imports the code
// uses, and JS is untyped): every import of the component's world names a registered
// instance (or host item) of the right sort with the functions the import type lists.
const CONCURRENT_HOST = ['never-return', 'return-two-slowly', 'echo-slowly'];
const SORT_NAME = { func: 'function', instance: 'instance', module: 'module', core: 'core instance' };
function linkImports(m) {
  const imports = {};
  for (const spec of m.moduleImports) {   // root core module imports: WIT has no word for them
    const inst = registry.get(spec) ?? host.get(spec);
    if (!inst) throw new Failure('unlinkable', `import \`${spec}\` was not found`);
    throw new Failure('unlinkable', `import \`${spec}\`: expected module found ${SORT_NAME[inst.core ? 'core' : inst.sort ?? 'instance']}`);
  }
  const wanted = new Map();
  if (!m.wit.error) for (const [n, v] of m.wit.imports) wanted.set(n, v);
  for (const spec of m.imports) if (!wanted.has(spec)) wanted.set(spec, null);
  for (const [spec, want] of wanted) {
    const inst = registry.get(spec) ?? host.get(spec);
    if (!inst) {
      // an imported instance of types only: nothing to call, jco does not ask for it
      if (want && want.kind === 'instance' && want.funcs.size === 0 && !m.imports.includes(spec)) continue;
      throw new Failure('unlinkable', `import \`${spec}\` was not found`);
    }
    const have = inst.core ? 'core' : inst.sort ?? 'instance';
    const need = want ? want.kind : have;
    if (have !== need)
      throw new Failure('unlinkable', `import \`${spec}\`: expected ${SORT_NAME[need]} found ${SORT_NAME[have]}`);
    if (want && want.kind === 'instance') {
      for (const f of want.funcs.keys()) {
        if (inst.host && CONCURRENT_HOST.includes(f))
          throw new Unsupported(`wasmtime's concurrent host function \`${f}\` is not provided to jco`);
        const plain = !f.startsWith('[');
        if (plain && typeof inst.exports[camel(f)] !== 'function')
          throw new Failure('unlinkable', `instance export \`${f}\` was not found (import \`${spec}\`)`);
      }
    }
    imports[spec] = inst.exports;
  }
  return imports;
}

// The names of a component's root imports of core modules (Binary.md, import section 10:
// nameattributes then externtype `0x00 0x11 i` for a core module). Other sections are skipped.
function rootModuleImports(bytes) {
  const out = [];
  let p = 8;
  const u32 = () => { let r = 0, shift = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80 && p < bytes.length); return r >>> 0; };
  const str = () => { const n = u32(); const t = Buffer.from(bytes.subarray(p, p + n)).toString('utf8'); p += n; return t; };
  try {
    while (p < bytes.length) {
      const id = bytes[p++];
      const size = u32();
      const end = p + size;
      if (id === 10) {
        for (let n = u32(); n > 0; n--) {
          const tag = bytes[p++];
          const name = str();
          if (tag === 2) for (let k = u32(); k > 0; k--) { p++; str(); }
          const sort = bytes[p++];
          if (sort === 0x00 && bytes[p] === 0x11) out.push(name);
          if (sort === 0x00) { p++; u32(); }
          else if (sort === 0x02) { p++; u32(); }
          else if (sort === 0x03) { if (bytes[p++] === 0x00) u32(); }   // eq i | sub resource
          else u32();
        }
      }
      p = end;
    }
  } catch { /* a binary jco accepted: decoding trouble only loses this check */ }
  return out;
}

async function instantiate(req) {
  const m = modules[req.module];
  if (!m) throw new Fatal(`no module ${req.module}`);
  if (m.core) { instances.push(instantiateCore(m)); return { instance: instances.length - 1 }; }
  const imports = linkImports(m);
  const dir = path.join(tmpRoot, String(++counter));
  fs.mkdirSync(dir);
  let js = null;
  for (const [name, data] of Object.entries(m.files)) {
    fs.writeFileSync(path.join(dir, name), data);
    if (name.endsWith('.js')) js = path.join(dir, name);
  }
  let mod;
  try { mod = await import(pathToFileURL(js).href); }
  catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Unsupported(`the JS jco generated for this component does not load on node ${process.version}: ${e.constructor.name}: ${e.message}`);
  }
  const getCoreModule = name => new WebAssembly.Module(m.files[name]);
  let exports;
  try {
    exports = mod.instantiate(name => {
      try { return getCoreModule(name); }
      catch (e) {
        throw new Unsupported(`a core module jco generated does not compile on node ${process.version}: ${e.message}`);
      }
    }, imports);
    if (exports instanceof Promise) exports = await exports;
  } catch (e) {
    if (e instanceof Unsupported) throw e;
    if (e instanceof WebAssembly.LinkError) throw new Failure('unlinkable', e.message);
    if (isStackOverflow(e)) throw new Failure('exhaustion', e.message);
    if (e instanceof WebAssembly.RuntimeError) throw new Failure('uninstantiable', e.message);
    if (e instanceof TypeError && /WebAssembly\.(Suspending|promising)/.test(e.message))
      throw new Unsupported(`jco's code needs JSPI, which node ${process.version} lacks: ${e.message}`);
    if (e instanceof TypeError && /import|not a function|undefined/i.test(e.message))
      throw new Failure('unlinkable', `${e.constructor.name}: ${e.message}`);
    throw new Failure('uninstantiable', `${e.constructor.name}: ${e.message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  instances.push({ exports, wit: m.wit });
  return { instance: instances.length - 1 };
}

function invokeCore(inst, req) {
  const f = inst.core[req.field];
  if (typeof f !== 'function') throw new Failure('unlinkable', `unknown export ${req.field}`);
  let r;
  try { r = f(...req.args.map(coreToJs)); }
  catch (e) {
    if (e instanceof WebAssembly.RuntimeError) throw new Failure('trap', e.message);
    if (isStackOverflow(e)) throw new Failure('exhaustion', e.message);
    if (e instanceof TypeError) throw new Unsupported(`jco engine (core): ${e.message}`);
    throw e;
  }
  const ty = WebAssembly.Function && WebAssembly.Function.type ? WebAssembly.Function.type(f).results : null;
  if (!ty) throw new Unsupported('jco engine: core results need --experimental-wasm-type-reflection');
  const rs = ty.length === 1 ? [r] : ty.length === 0 ? [] : r;
  return { results: ty.map((t, k) => coreFromJs(t, rs[k])) };
}

function invoke(req) {
  const inst = instances[req.instance];
  if (!inst) throw new Fatal(`no instance ${req.instance}`);
  if (inst.core) return invokeCore(inst, req);
  const f = inst.exports[camel(req.field)] ?? inst.exports[req.field];
  if (typeof f !== 'function') throw new Failure('unlinkable', `unknown export ${req.field}`);
  if (inst.wit.error) throw new Unsupported(`jco engine: no types for the results (componentWit: ${inst.wit.error})`);
  const sig = inst.wit.funcs.get(req.field);
  if (!sig) throw new Unsupported(`jco engine: export ${req.field} not in the component's WIT`);
  const args = req.args.map(toJs);
  let r, err = null;
  try { r = f(...args); }
  catch (e) {
    if (isStackOverflow(e)) throw new Failure('exhaustion', e.message);
    const rt = sig.result && resolveType(inst.wit, sig.result);
    if (rt && rt.k === 'result' && e && e.constructor && e.constructor.name === 'ComponentError' && 'payload' in e)
      err = e;
    else throw new Failure('trap', e instanceof Error ? `${e.constructor.name === 'Error' ? '' : e.constructor.name + ': '}${e.message}` : String(e));
  }
  if (r instanceof Promise) throw new Unsupported('jco engine: the export returned a promise (async)');
  if (!sig.result) return { results: [] };
  if (err) r = { tag: 'err', val: err.payload };
  else {
    const rt = resolveType(inst.wit, sig.result);
    if (rt.k === 'result') r = { tag: 'ok', val: r };
  }
  return { results: [fromJs(inst.wit, sig.result, r)] };
}

const OPS = {
  version: () => ({ version: `jco-transpile ${jcoVersion} on node ${process.version}` }),
  reset: () => { reset(); return {}; },
  load, instantiate, invoke,
  get: () => { throw new Unsupported('jco engine: get (core globals) is not implemented'); },
  register: req => {
    const inst = instances[req.instance];
    if (!inst) throw new Fatal(`no instance ${req.instance}`);
    registry.set(req.as, inst);
    return {};
  },
};

async function handle(line) {
  let req;
  try { req = JSON.parse(line); } catch (e) { return { id: null, fatal: `bad request: ${e.message}` }; }
  const op = OPS[req.op];
  if (!op) return { id: req.id, fatal: `unknown op ${req.op}` };
  try { return { id: req.id, ok: await op(req) }; }
  catch (e) {
    if (e instanceof Failure) {
      const error = { kind: e.kind, message: e.message };
      if (e.alt) error.alt = e.alt;
      return { id: req.id, error };
    }
    if (e instanceof Unsupported) return { id: req.id, unsupported: e.message };
    if (isStackOverflow(e)) return { id: req.id, error: { kind: 'exhaustion', message: e.message } };
    return { id: req.id, fatal: `${e && e.constructor ? e.constructor.name : 'Error'}: ${e && e.message}` };
  }
}

function writeAll(text) {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length) {
    try { buf = buf.subarray(fs.writeSync(1, buf)); }
    catch (e) { if (e.code !== 'EAGAIN') throw e; }
  }
}

// jco's generated code logs through console: keep stdout for replies only.
console.log = console.info = console.debug = console.warn = (...a) => process.stderr.write(a.join(' ') + '\n');

async function main() {
  await loadJco();
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cmref-jco-'));
  process.on('exit', () => fs.rmSync(tmpRoot, { recursive: true, force: true }));
  reset();
  process.stdin.setEncoding('utf8');
  let pending = '';
  let chain = Promise.resolve();
  process.stdin.on('data', chunk => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (!line) continue;
      chain = chain.then(() => handle(line)).then(reply => writeAll(JSON.stringify(reply) + '\n'));
    }
  });
  process.stdin.on('end', () => { chain.then(() => process.exit(0)); });
}
main().catch(e => { process.stderr.write(`jco worker: ${e.stack}\n`); process.exit(1); });
