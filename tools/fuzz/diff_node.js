// The V8 side of the differential execution fuzzer (tools/fuzz/diff_exec.py): the same
// output as diff_ref.c for the modules named in the JSON file argv[2]:
//   [{"path": FILE, "sigs": [[NAME, PARAMS, RESULTS], ...]}, ...]   (diff_ref's sig lines)
// Each function export (skipping hangLimitInitializer and signatures with v128 or
// references) is called with zero arguments of its parameter types, hangLimitInitializer
// first. A RangeError (stack overflow) is `exhaustion`, any other exception `trap`.
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

const out = [];
const log = (t) => (v) => { out.push('log' + show(t, v)); };
const imports = { 'fuzzing-support': { 'log-i32': log('i'), 'log-i64': log('I'), 'log-f32': log('f'), 'log-f64': log('F') } };

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
    if (name === 'hangLimitInitializer' || /[vr]/.test(params + results)) continue;
    const args = params === '-' ? [] : [...params].map((c) => (c === 'I' ? 0n : 0));
    let line = `call ${name} ->`;
    try {
      if (hang) hang();
      const r = inst.exports[name](...args);
      if (results.length === 1 && results !== '-') line += show(results, r);
      else if (results !== '-') [...results].forEach((c, k) => { line += show(c, r[k]); });
    } catch (e) {
      line += e instanceof RangeError ? ' exhaustion' : ' trap';
    }
    out.push(line);
  }
}
process.stdout.write(out.join('\n') + '\n');
