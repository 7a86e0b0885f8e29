/* Binary decoding of modules (spec 5 "Binary Format"), section by section.
 *
 * Every vector count is checked against the bytes left before anything is allocated, so no
 * input makes the decoder allocate more than a small multiple of its size. Function bodies
 * are scanned instruction by instruction (instr.c) so that malformed code is reported here,
 * at decode time, as in the spec. */
#include <stdlib.h>
#include <string.h>

#include "core/instr.h"

typedef struct decoder {
  cm_module *m;
  cm_reader r; /* the current section's contents */
  cm_error *err;
  uint32_t nfunc_decls; /* entries of the function section */
  uint32_t *func_decls; /* their type indices */
  bool uses_dataidx;    /* memory.init or data.drop seen */
  bool has_data_section;
} decoder;

static bool malformed(cm_error *err, const char *msg) {
  return cm_error_set(err, CMREF_MALFORMED, "%s", msg);
}

/* A vector length: at most the bytes left (each element takes at least one byte), so that
 * nothing is allocated for elements that cannot be there. */
static bool read_len(cm_reader *r, uint32_t *n, cm_error *err) {
  if (!cm_read_u32(r, n, err)) return false;
  if (*n > cm_reader_left(r)) return malformed(err, "unexpected end of section or function");
  return true;
}

/* A byte-string length (names, data): "length out of bounds" past the end. */
static bool read_bytes_len(cm_reader *r, uint32_t *n, cm_error *err) {
  if (!cm_read_u32(r, n, err)) return false;
  if (*n > cm_reader_left(r)) return malformed(err, "length out of bounds");
  return true;
}

static void *alloc_array(uint32_t n, size_t size) {
  return calloc(n ? n : 1, size);
}

/* ---- UTF-8 names (spec 5.2.4) ---- */

static bool utf8_valid(const uint8_t *s, uint32_t n) {
  uint32_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    uint32_t need, cp;
    if (b < 0x80) { i++; continue; }
    if (b >= 0xC2 && b <= 0xDF) { need = 1; cp = b & 0x1F; }
    else if (b >= 0xE0 && b <= 0xEF) { need = 2; cp = b & 0x0F; }
    else if (b >= 0xF0 && b <= 0xF4) { need = 3; cp = b & 0x07; }
    else return false;
    if (n - i - 1 < need) return false;
    for (uint32_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += need + 1;
  }
  return true;
}

static bool read_name(cm_reader *r, cm_name *out, cm_error *err) {
  uint32_t n;
  const uint8_t *p = NULL;
  if (!read_bytes_len(r, &n, err) || !cm_read_bytes(r, n, &p, err)) return false;
  if (!utf8_valid(p, n)) return malformed(err, "malformed UTF-8 encoding");
  out->str = malloc((size_t)n + 1);
  if (!out->str) return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  memcpy(out->str, p, n);
  out->str[n] = 0;
  out->len = n;
  return true;
}

/* ---- Types (spec 5.3) ---- */

static bool read_valtypes(cm_reader *r, uint32_t *n, cm_valtype **out, cm_error *err) {
  if (!read_len(r, n, err)) return false;
  *out = alloc_array(*n, 1);
  if (!*out) return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < *n; i++)
    if (!cm_read_valtype(r, &(*out)[i], err)) return false;
  return true;
}

static bool read_functype(cm_reader *r, cm_functype *ft, cm_error *err) {
  uint8_t form;
  if (!cm_read_byte(r, &form, err)) return false;
  if (form & 0x80) return malformed(err, "integer representation too long");
  if (form != 0x60) return cm_error_set(err, CMREF_MALFORMED, "malformed function type 0x%02x", form);
  return read_valtypes(r, &ft->nparams, &ft->params, err) &&
         read_valtypes(r, &ft->nresults, &ft->results, err);
}

static bool read_limits(cm_reader *r, cm_limits *l, bool is_memory, cm_error *err) {
  uint8_t flags = 0;
  (void)is_memory; /* threads' shared and memory64's flags are not supported */
  if (!cm_read_byte(r, &flags, err)) return false;
  if (flags & 0x80) return malformed(err, "integer representation too long");
  if (flags > 1) return malformed(err, "integer too large");
  l->has_max = flags & 1;
  l->shared = (flags & 2) != 0;
  l->is64 = (flags & 4) != 0;
  uint32_t v;
  if (!cm_read_u32(r, &v, err)) return false;
  l->min = v;
  l->max = 0;
  if (l->has_max) {
    if (!cm_read_u32(r, &v, err)) return false;
    l->max = v;
  }
  return true;
}

static bool read_tabletype(cm_reader *r, cm_tabletype *t, cm_error *err) {
  return cm_read_reftype(r, &t->elem, err) && read_limits(r, &t->limits, false, err);
}

static bool read_globaltype(cm_reader *r, cm_globaltype *g, cm_error *err) {
  uint8_t mut;
  if (!cm_read_valtype(r, &g->type, err) || !cm_read_byte(r, &mut, err)) return false;
  if (mut > 1) return malformed(err, "malformed mutability");
  g->mut = mut;
  return true;
}

static bool read_tagtype(cm_reader *r, cm_tagtype *t, cm_error *err) {
  if (!cm_read_byte(r, &t->attribute, err)) return false;
  if (t->attribute != 0) return malformed(err, "malformed tag attribute");
  return cm_read_u32(r, &t->typeidx, err);
}

/* ---- Expressions: scanned for well-formedness, kept as byte ranges ---- */

/* Scans instructions up to the `end` closing the expression; nesting depth is a counter, so
 * deep nesting costs no C stack. */
static bool read_expr(decoder *d, cm_reader *r, cm_expr *e) {
  e->offset = cm_reader_offset(r);
  uint64_t depth = 0;
  for (;;) {
    cm_instr in;
    if (cm_reader_eof(r)) return malformed(d->err, "unexpected end of section or function");
    if (!cm_read_instr(r, d->m, &in, d->err)) return false;
    if (in.op == 0x02 || in.op == 0x03 || in.op == 0x04 || in.op == 0x1F) depth++;
    else if (in.op == 0xFC08 || in.op == 0xFC09) d->uses_dataidx = true;
    else if (in.op == 0x05 && depth == 0) return malformed(d->err, "END opcode expected");
    else if (in.op == 0x0B) {
      if (depth == 0) break;
      depth--;
    }
  }
  e->len = cm_reader_offset(r) - e->offset;
  return true;
}

/* ---- Sections (spec 5.5) ---- */

static bool type_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->ntypes, d->err)) return false;
  m->types = alloc_array(m->ntypes, sizeof *m->types);
  if (!m->types) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->ntypes; i++)
    if (!read_functype(&d->r, &m->types[i], d->err)) return false;
  return true;
}

static bool import_desc(decoder *d, cm_import *im) {
  uint8_t kind;
  if (!cm_read_byte(&d->r, &kind, d->err)) return false;
  cm_module *m = d->m;
  switch (kind) {
  case CM_EXTERN_FUNC: m->nfunc_imports++; return cm_read_u32(&d->r, &im->desc.func, d->err);
  case CM_EXTERN_TABLE: m->ntable_imports++; return read_tabletype(&d->r, &im->desc.table, d->err);
  case CM_EXTERN_MEMORY:
    m->nmem_imports++;
    return read_limits(&d->r, &im->desc.mem.limits, true, d->err);
  case CM_EXTERN_GLOBAL: m->nglobal_imports++; return read_globaltype(&d->r, &im->desc.global, d->err);
  case CM_EXTERN_TAG: m->ntag_imports++; return read_tagtype(&d->r, &im->desc.tag, d->err);
  default: return malformed(d->err, "malformed import kind");
  }
}

/* Fills m->imports_of_kind (see module.h). */
static bool index_imports(cm_module *m, cm_error *err) {
  uint32_t count[5] = {0};
  for (int k = 0; k < 5; k++) {
    m->imports_of_kind[k] = alloc_array(m->nimports, sizeof(uint32_t));
    if (!m->imports_of_kind[k]) return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  }
  for (uint32_t i = 0; i < m->nimports; i++) {
    cm_externkind k = m->imports[i].kind;
    m->imports_of_kind[k][count[k]++] = i;
  }
  return true;
}

static bool import_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->nimports, d->err)) return false;
  m->imports = alloc_array(m->nimports, sizeof *m->imports);
  if (!m->imports) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->nimports; i++) {
    cm_import *im = &m->imports[i];
    if (!read_name(&d->r, &im->module, d->err) || !read_name(&d->r, &im->name, d->err))
      return false;
    if (!cm_reader_eof(&d->r)) im->kind = (cm_externkind)*d->r.p;
    if (!import_desc(d, im)) return false;
  }
  return index_imports(m, d->err);
}

static bool function_section(decoder *d) {
  if (!read_len(&d->r, &d->nfunc_decls, d->err)) return false;
  d->func_decls = alloc_array(d->nfunc_decls, sizeof *d->func_decls);
  if (!d->func_decls) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < d->nfunc_decls; i++)
    if (!cm_read_u32(&d->r, &d->func_decls[i], d->err)) return false;
  return true;
}

/* A table: a table type, or 0x40 0x00 tabletype expr (typed references: an initialiser). */
static bool read_table(decoder *d, cm_tabletype *t) {
  uint8_t b = 0;
  if (cm_reader_eof(&d->r) || *d->r.p != 0x40) return read_tabletype(&d->r, t, d->err);
  d->r.p++;
  if (!cm_read_byte(&d->r, &b, d->err)) return false;
  if (b != 0x00) return malformed(d->err, "malformed table: 0x40 must be followed by 0x00");
  cm_expr init;
  if (!read_tabletype(&d->r, t, d->err) || !read_expr(d, &d->r, &init)) return false;
  t->has_init = true;
  t->init_offset = init.offset;
  t->init_len = init.len;
  return true;
}

static bool table_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->ntables, d->err)) return false;
  m->tables = alloc_array(m->ntables, sizeof *m->tables);
  if (!m->tables) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->ntables; i++)
    if (!read_table(d, &m->tables[i])) return false;
  return true;
}

static bool memory_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->nmems, d->err)) return false;
  m->mems = alloc_array(m->nmems, sizeof *m->mems);
  if (!m->mems) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->nmems; i++)
    if (!read_limits(&d->r, &m->mems[i].limits, true, d->err)) return false;
  return true;
}

static bool tag_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->ntags, d->err)) return false;
  m->tags = alloc_array(m->ntags, sizeof *m->tags);
  if (!m->tags) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->ntags; i++)
    if (!read_tagtype(&d->r, &m->tags[i], d->err)) return false;
  return true;
}

static bool global_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->nglobals, d->err)) return false;
  m->globals = alloc_array(m->nglobals, sizeof *m->globals);
  if (!m->globals) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->nglobals; i++)
    if (!read_globaltype(&d->r, &m->globals[i].type, d->err) ||
        !read_expr(d, &d->r, &m->globals[i].init))
      return false;
  return true;
}

static int name_cmp(const char *a, uint32_t alen, const char *b, size_t blen) {
  if (alen != blen) return alen < blen ? -1 : 1;
  return memcmp(a, b, alen);
}

static int export_ptr_cmp(const void *x, const void *y) {
  const cm_export *a = *(const cm_export *const *)x, *b = *(const cm_export *const *)y;
  int c = name_cmp(a->name.str, a->name.len, b->name.str, b->name.len);
  return c ? c : (a < b ? -1 : a > b);
}

/* Fills m->exports_by_name (see module.h). */
static bool index_exports(cm_module *m, cm_error *err) {
  const cm_export **ptrs = alloc_array(m->nexports, sizeof *ptrs);
  m->exports_by_name = alloc_array(m->nexports, sizeof(uint32_t));
  if (!ptrs || !m->exports_by_name) {
    free(ptrs);
    return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  }
  for (uint32_t i = 0; i < m->nexports; i++) ptrs[i] = &m->exports[i];
  qsort(ptrs, m->nexports, sizeof *ptrs, export_ptr_cmp);
  for (uint32_t i = 0; i < m->nexports; i++) m->exports_by_name[i] = (uint32_t)(ptrs[i] - m->exports);
  free(ptrs);
  return true;
}

const cm_export *cm_module_find_export(const cm_module *m, const char *name, size_t len) {
  size_t lo = 0, hi = m->exports_by_name ? m->nexports : 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const cm_export *e = &m->exports[m->exports_by_name[mid]];
    int c = name_cmp(e->name.str, e->name.len, name, len);
    if (c == 0) return e;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

static bool export_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->nexports, d->err)) return false;
  m->exports = alloc_array(m->nexports, sizeof *m->exports);
  if (!m->exports) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->nexports; i++) {
    cm_export *ex = &m->exports[i];
    uint8_t kind;
    if (!read_name(&d->r, &ex->name, d->err) || !cm_read_byte(&d->r, &kind, d->err)) return false;
    if (kind > CM_EXTERN_TAG) return malformed(d->err, "malformed export kind");
    ex->kind = (cm_externkind)kind;
    if (!cm_read_u32(&d->r, &ex->index, d->err)) return false;
  }
  return index_exports(m, d->err);
}

static bool start_section(decoder *d) {
  d->m->has_start = true;
  return cm_read_u32(&d->r, &d->m->start, d->err);
}

/* elemkind (spec 5.5.12): only 0x00 (funcref). */
static bool read_elemkind(decoder *d, cm_valtype *t) {
  uint8_t b = 0;
  if (!cm_read_byte(&d->r, &b, d->err)) return false;
  if (b != 0x00) return malformed(d->err, "malformed element kind");
  *t = CM_FUNCREF;
  return true;
}

static bool read_elem_items(decoder *d, cm_elem *e) {
  if (!read_len(&d->r, &e->nitems, d->err)) return false;
  if (e->uses_exprs) {
    e->exprs = alloc_array(e->nitems, sizeof *e->exprs);
    if (!e->exprs) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
    for (uint32_t i = 0; i < e->nitems; i++)
      if (!read_expr(d, &d->r, &e->exprs[i])) return false;
  } else {
    e->funcs = alloc_array(e->nitems, sizeof *e->funcs);
    if (!e->funcs) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
    for (uint32_t i = 0; i < e->nitems; i++)
      if (!cm_read_u32(&d->r, &e->funcs[i], d->err)) return false;
  }
  return true;
}

/* The eight element segment encodings (flags 0..7, spec 5.5.12). */
static bool read_elem(decoder *d, cm_elem *e) {
  uint32_t flags;
  if (!cm_read_u32(&d->r, &flags, d->err)) return false;
  if (flags > 7) return malformed(d->err, "malformed elements segment kind");
  bool passive_or_decl = flags & 1, explicit_table = flags & 2, exprs = flags & 4;
  e->mode = !passive_or_decl ? CM_SEG_ACTIVE : explicit_table ? CM_SEG_DECLARATIVE : CM_SEG_PASSIVE;
  e->uses_exprs = exprs;
  e->type = CM_FUNCREF;
  if (e->mode == CM_SEG_ACTIVE) {
    if (explicit_table && !cm_read_u32(&d->r, &e->table, d->err)) return false;
    if (!read_expr(d, &d->r, &e->offset)) return false;
  }
  if (passive_or_decl || explicit_table) {
    if (exprs ? !cm_read_reftype(&d->r, &e->type, d->err) : !read_elemkind(d, &e->type))
      return false;
  }
  return read_elem_items(d, e);
}

static bool element_section(decoder *d) {
  cm_module *m = d->m;
  if (!read_len(&d->r, &m->nelems, d->err)) return false;
  m->elems = alloc_array(m->nelems, sizeof *m->elems);
  if (!m->elems) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->nelems; i++)
    if (!read_elem(d, &m->elems[i])) return false;
  return true;
}

static bool read_locals(decoder *d, cm_reader *r, cm_func *f) {
  if (!read_len(r, &f->nlocaldecls, d->err)) return false;
  f->localdecls = alloc_array(f->nlocaldecls, sizeof *f->localdecls);
  if (!f->localdecls) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  uint64_t total = 0;
  for (uint32_t i = 0; i < f->nlocaldecls; i++) {
    if (!cm_read_u32(r, &f->localdecls[i].count, d->err)) return false;
    total += f->localdecls[i].count;
    if (total > CM_MAX_LOCALS) return malformed(d->err, "too many locals");
    if (!cm_read_valtype(r, &f->localdecls[i].type, d->err)) return false;
  }
  f->nlocals = (uint32_t)total;
  return true;
}

/* A code entry. As in the spec's decoder, the body is read from the whole stream and its
 * size checked afterwards. */
static bool read_code(decoder *d, cm_func *f) {
  uint32_t size;
  const uint8_t *p = NULL;
  if (!cm_read_u32(&d->r, &size, d->err)) return false;
  if (size > cm_reader_left(&d->r)) return malformed(d->err, "unexpected end of section or function");
  cm_reader body = {d->r.base, d->r.p, d->r.end};
  if (!read_locals(d, &body, f)) return false;
  if (!read_expr(d, &body, &f->body)) return false;
  if (!cm_read_bytes(&d->r, size, &p, d->err) || body.p != p + size)
    return malformed(d->err, "section size mismatch");
  return true;
}

static bool code_section(decoder *d) {
  cm_module *m = d->m;
  uint32_t n;
  if (!read_len(&d->r, &n, d->err)) return false;
  if (n != d->nfunc_decls)
    return malformed(d->err, "function and code section have inconsistent lengths");
  m->nfuncs = n;
  m->funcs = alloc_array(n, sizeof *m->funcs);
  if (!m->funcs) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    m->funcs[i].typeidx = d->func_decls[i];
    if (!read_code(d, &m->funcs[i])) return false;
  }
  return true;
}

static bool read_data(decoder *d, cm_data *s) {
  uint32_t flags, len;
  const uint8_t *p = NULL;
  if (!cm_read_u32(&d->r, &flags, d->err)) return false;
  if (flags > 2) return malformed(d->err, "malformed data segment kind");
  s->mode = flags == 1 ? CM_SEG_PASSIVE : CM_SEG_ACTIVE;
  if (flags == 2 && !cm_read_u32(&d->r, &s->memory, d->err)) return false;
  if (s->mode == CM_SEG_ACTIVE && !read_expr(d, &d->r, &s->offset)) return false;
  if (!cm_read_u32(&d->r, &len, d->err)) return false;
  if (!cm_read_bytes(&d->r, len, &p, d->err)) return false;
  s->init_offset = (uint32_t)(p - d->r.base);
  s->init_len = len;
  return true;
}

static bool data_section(decoder *d) {
  cm_module *m = d->m;
  d->has_data_section = true;
  if (!read_len(&d->r, &m->ndatas, d->err)) return false;
  if (m->has_datacount && m->ndatas != m->datacount)
    return malformed(d->err, "data count and data section have inconsistent lengths");
  m->datas = alloc_array(m->ndatas, sizeof *m->datas);
  if (!m->datas) return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->ndatas; i++)
    if (!read_data(d, &m->datas[i])) return false;
  return true;
}

static bool datacount_section(decoder *d) {
  d->m->has_datacount = true;
  return cm_read_u32(&d->r, &d->m->datacount, d->err);
}

static bool custom_section(decoder *d) {
  cm_module *m = d->m;
  cm_name name;
  if (!read_name(&d->r, &name, d->err)) return false;
  if ((m->ncustoms & (m->ncustoms - 1)) == 0) { /* 0, 1, 2, 4 ...: grow geometrically */
    size_t cap = m->ncustoms ? (size_t)m->ncustoms * 2 : 1;
    cm_custom *grown = realloc(m->customs, cap * sizeof *grown);
    if (!grown) {
      free(name.str);
      return cm_error_set(d->err, CMREF_INTERNAL, "out of memory");
    }
    m->customs = grown;
  }
  cm_custom *c = &m->customs[m->ncustoms++];
  c->name = name;
  c->offset = cm_reader_offset(&d->r);
  c->len = (uint32_t)cm_reader_left(&d->r);
  d->r.p = d->r.end;
  return true;
}

/* ---- The module (spec 5.5.16) ---- */

enum { SEC_CUSTOM = 0, SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_TABLE, SEC_MEMORY, SEC_GLOBAL,
       SEC_EXPORT, SEC_START, SEC_ELEMENT, SEC_CODE, SEC_DATA, SEC_DATACOUNT, SEC_TAG };

/* Position of each section id in the required order (tag goes after memory, datacount
 * before code). */
static int section_rank(uint8_t id) {
  static const int rank[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
  return rank[id];
}

static bool section_contents(decoder *d, uint8_t id) {
  switch (id) {
  case SEC_CUSTOM: return custom_section(d);
  case SEC_TYPE: return type_section(d);
  case SEC_IMPORT: return import_section(d);
  case SEC_FUNCTION: return function_section(d);
  case SEC_TABLE: return table_section(d);
  case SEC_MEMORY: return memory_section(d);
  case SEC_GLOBAL: return global_section(d);
  case SEC_EXPORT: return export_section(d);
  case SEC_START: return start_section(d);
  case SEC_ELEMENT: return element_section(d);
  case SEC_CODE: return code_section(d);
  case SEC_DATA: return data_section(d);
  case SEC_DATACOUNT: return datacount_section(d);
  case SEC_TAG: return tag_section(d);
  default: return malformed(d->err, "malformed section id");
  }
}

static bool read_header(cm_reader *r, cm_error *err) {
  static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6D};
  static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
  const uint8_t *p = NULL;
  if (cm_reader_left(r) < 4) return malformed(err, "unexpected end");
  cm_read_bytes(r, 4, &p, err);
  if (memcmp(p, magic, 4) != 0) return malformed(err, "magic header not detected");
  if (cm_reader_left(r) < 4) return malformed(err, "unexpected end");
  cm_read_bytes(r, 4, &p, err);
  if (memcmp(p, version, 4) != 0) return malformed(err, "unknown binary version");
  return true;
}

static bool read_sections(decoder *d, cm_reader *top) {
  int last_rank = 0;
  while (!cm_reader_eof(top)) {
    uint8_t id;
    uint32_t size;
    const uint8_t *p = NULL;
    cm_read_byte(top, &id, d->err);
    if (id > SEC_TAG) return malformed(d->err, "malformed section id");
    if (!cm_read_u32(top, &size, d->err)) return false;
    if (size > cm_reader_left(top)) return malformed(d->err, "length out of bounds");
    if (id != SEC_CUSTOM) {
      if (section_rank(id) <= last_rank)
        return malformed(d->err, "unexpected content after last section");
      last_rank = section_rank(id);
    }
    cm_read_bytes(top, size, &p, d->err);
    /* As in the spec's decoder, a section's contents are read from the whole stream and
     * their size is checked afterwards (custom sections: exactly their size). */
    d->r = (cm_reader){top->base, p, id == SEC_CUSTOM ? p + size : top->end};
    if (!section_contents(d, id)) return false;
    if (d->r.p != p + size) return malformed(d->err, "section size mismatch");
  }
  if (d->nfunc_decls != d->m->nfuncs)
    return malformed(d->err, "function and code section have inconsistent lengths");
  if (d->m->has_datacount && d->m->datacount != d->m->ndatas)
    return malformed(d->err, "data count and data section have inconsistent lengths");
  /* Data indices in code need the data count section. (wabt omits that section when a
   * module has no data section; then an index is simply unknown: a validation error.) */
  if (d->uses_dataidx && !d->m->has_datacount && d->has_data_section)
    return malformed(d->err, "data count section required");
  return true;
}

bool cm_core_decode(const uint8_t *bytes, size_t len, cm_module **out, cm_error *err) {
  *out = NULL;
  if (len > UINT32_MAX) return malformed(err, "module too large");
  cm_module *m = calloc(1, sizeof *m);
  if (!m) return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  m->bytes = malloc(len ? len : 1);
  if (!m->bytes) {
    free(m);
    return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  }
  memcpy(m->bytes, bytes, len);
  m->nbytes = (uint32_t)len;
  decoder d = {.m = m, .err = err};
  cm_reader top = {m->bytes, m->bytes, m->bytes + len};
  bool ok = read_header(&top, err) && read_sections(&d, &top);
  free(d.func_decls);
  if (!ok) {
    cm_module_free(m);
    return false;
  }
  *out = m;
  return true;
}

/* ---- Freeing and index spaces ---- */

void cm_module_free(cm_module *m) {
  if (!m) return;
  for (uint32_t i = 0; m->types && i < m->ntypes; i++) {
    free(m->types[i].params);
    free(m->types[i].results);
  }
  free(m->types);
  for (uint32_t i = 0; m->imports && i < m->nimports; i++) {
    free(m->imports[i].module.str);
    free(m->imports[i].name.str);
  }
  free(m->imports);
  for (uint32_t i = 0; m->funcs && i < m->nfuncs; i++) free(m->funcs[i].localdecls);
  free(m->funcs);
  free(m->tables);
  free(m->mems);
  free(m->globals);
  free(m->tags);
  for (uint32_t i = 0; m->exports && i < m->nexports; i++) free(m->exports[i].name.str);
  free(m->exports);
  for (uint32_t i = 0; m->elems && i < m->nelems; i++) {
    free(m->elems[i].funcs);
    free(m->elems[i].exprs);
  }
  free(m->elems);
  free(m->datas);
  for (uint32_t i = 0; i < m->ncustoms; i++) free(m->customs[i].name.str);
  free(m->customs);
  for (int k = 0; k < 5; k++) free(m->imports_of_kind[k]);
  free(m->exports_by_name);
  free(m->bytes);
  free(m);
}

uint32_t cm_module_nfuncs_total(const cm_module *m) { return m->nfunc_imports + m->nfuncs; }
uint32_t cm_module_ntables_total(const cm_module *m) { return m->ntable_imports + m->ntables; }
uint32_t cm_module_nmems_total(const cm_module *m) { return m->nmem_imports + m->nmems; }
uint32_t cm_module_nglobals_total(const cm_module *m) { return m->nglobal_imports + m->nglobals; }
uint32_t cm_module_ntags_total(const cm_module *m) { return m->ntag_imports + m->ntags; }

/* The idx-th import of `kind`, or NULL. */
static const cm_import *nth_import(const cm_module *m, cm_externkind kind, uint32_t idx) {
  return &m->imports[m->imports_of_kind[kind][idx]];
}

uint32_t cm_module_func_typeidx(const cm_module *m, uint32_t funcidx) {
  if (funcidx < m->nfunc_imports) return nth_import(m, CM_EXTERN_FUNC, funcidx)->desc.func;
  funcidx -= m->nfunc_imports;
  return funcidx < m->nfuncs ? m->funcs[funcidx].typeidx : UINT32_MAX;
}

const cm_functype *cm_module_func_type(const cm_module *m, uint32_t funcidx) {
  uint32_t t = cm_module_func_typeidx(m, funcidx);
  return t < m->ntypes ? &m->types[t] : NULL;
}

const cm_tabletype *cm_module_table_type(const cm_module *m, uint32_t idx) {
  if (idx < m->ntable_imports) return &nth_import(m, CM_EXTERN_TABLE, idx)->desc.table;
  idx -= m->ntable_imports;
  return idx < m->ntables ? &m->tables[idx] : NULL;
}

const cm_memtype *cm_module_mem_type(const cm_module *m, uint32_t idx) {
  if (idx < m->nmem_imports) return &nth_import(m, CM_EXTERN_MEMORY, idx)->desc.mem;
  idx -= m->nmem_imports;
  return idx < m->nmems ? &m->mems[idx] : NULL;
}

const cm_globaltype *cm_module_global_type(const cm_module *m, uint32_t idx) {
  if (idx < m->nglobal_imports) return &nth_import(m, CM_EXTERN_GLOBAL, idx)->desc.global;
  idx -= m->nglobal_imports;
  return idx < m->nglobals ? &m->globals[idx].type : NULL;
}

const cm_tagtype *cm_module_tag_type(const cm_module *m, uint32_t idx) {
  if (idx < m->ntag_imports) return &nth_import(m, CM_EXTERN_TAG, idx)->desc.tag;
  idx -= m->ntag_imports;
  return idx < m->ntags ? &m->tags[idx] : NULL;
}
