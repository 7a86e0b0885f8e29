/* WIT parser (wit-parser's ast.rs): one file's tokens into a syntax tree.
 * Recursion is bounded: types nest at most 100 deep, packages at most 100. */
#include <string.h>

#include "wit/ast.h"

#define MAX_ITEM_DEPTH 100
#define MAX_TYPE_DEPTH 100

typedef wit_lexer P;

static int syntax(P *p, wit_span span, const char *msg) {
  return wit_error_at(p->err, p->mem, span, "%s", msg);
}

static int err_expected(P *p, const char *expected, const wit_token *found) {
  if (found->kind == T_EOF) {
    uint32_t end = p->offset + (uint32_t)p->len;
    return wit_error_at(p->err, p->mem, (wit_span){end, end}, "expected %s, found eof", expected);
  }
  return wit_error_at(p->err, p->mem, found->span, "expected %s, found %s", expected,
                      wit_tok_describe(found->kind));
}

static int peek(P *p, wit_token *t) {
  P c = *p;
  return wit_lex_next(&c, t);
}

/* eat: 1 eaten, 0 not, -1 error */
static int eat(P *p, int kind) {
  P c = *p;
  wit_token t;
  if (wit_lex_next(&c, &t)) return -1;
  if (t.kind != kind) return 0;
  *p = c;
  return 1;
}

static int expect(P *p, int kind, wit_span *span) {
  wit_token t;
  if (wit_lex_next(p, &t)) return -1;
  if (t.kind != kind) {
    /* a lexer error (lex::Error::Wanted): its span is one byte long */
    uint32_t at = t.kind == T_EOF ? p->offset + (uint32_t)p->len : t.span.start;
    return wit_error_at(p->err, p->mem, (wit_span){at, at + 1}, "expected %s, found %s",
                        wit_tok_describe(kind), wit_tok_describe(t.kind));
  }
  if (span) *span = t.span;
  return 0;
}

static const char *text(P *p, wit_span s) { return p->input + (s.start - p->offset); }

static int id_from_token(P *p, const wit_token *t, ast_id *out) {
  const char *s = text(p, t->span);
  size_t n = t->span.end - t->span.start;
  if (t->kind == T_EXPLICIT_ID) { s++; n--; }
  if (wit_validate_id(p, t->span.start, s, n)) return -1;
  out->name = wit_strndup(p->mem, s, n);
  out->span = t->span;
  return 0;
}

static int parse_id(P *p, ast_id *out) {
  wit_token t;
  if (wit_lex_next(p, &t)) return -1;
  if (t.kind != T_ID && t.kind != T_EXPLICIT_ID) return err_expected(p, "an identifier or string", &t);
  return id_from_token(p, &t, out);
}

/* ---- docs and attributes ---- */
static int parse_docs(P *p, ast_docs *d) {
  memset(d, 0, sizeof *d);
  d->span = wit_span_unknown();
  P c = *p;
  int started = 0;
  for (;;) {
    wit_token t;
    if (wit_lex_next_raw(&c, &t)) return -1;
    if (t.kind == T_COMMENT) {
      const char *s = text(p, t.span);
      size_t n = t.span.end - t.span.start;
      if (!started) { d->span.start = t.span.start; started = 1; }
      size_t trail = 0;
      while (trail < n && (s[n - 1 - trail] == ' ' || s[n - 1 - trail] == '\n' ||
                           s[n - 1 - trail] == '\t' || s[n - 1 - trail] == '\r'))
        trail++;
      d->span.end = t.span.end - (uint32_t)trail;
      wit_push(p->mem, d->lines, wit_strndup(p->mem, s, n));
    } else if (t.kind != T_WHITESPACE) {
      break;
    }
    *p = c;
  }
  return 0;
}

/* Versions: integer '.' integer '.' integer, then -pre and +build ids (parse_version). */
static int eat_ver_ids(P *p, int prefix, wit_span *span) {
  int r = eat(p, prefix);
  if (r <= 0) return r;
  for (;;) {
    P c = *p;
    wit_token t;
    if (wit_lex_next(&c, &t)) return -1;
    if (t.kind == T_ID || t.kind == T_INTEGER || t.kind == T_MINUS) {
      span->end = t.span.end;
      *p = c;
    } else if (t.kind == T_PERIOD) {
      if (wit_lex_next(&c, &t)) return -1;
      if (t.kind == T_ID || t.kind == T_INTEGER || t.kind == T_MINUS) {
        span->end = t.span.end;
        *p = c;
      } else {
        return 0;
      }
    } else {
      return 0;
    }
  }
}

static int parse_version(P *p, wit_span *span, char **out) {
  wit_span s, e;
  if (expect(p, T_INTEGER, &s) || expect(p, T_PERIOD, NULL) || expect(p, T_INTEGER, NULL) ||
      expect(p, T_PERIOD, NULL) || expect(p, T_INTEGER, &e))
    return -1;
  wit_span v = {s.start, e.end};
  if (eat_ver_ids(p, T_MINUS, &v) < 0 || eat_ver_ids(p, T_PLUS, &v) < 0) return -1;
  const char *str = text(p, v);
  size_t n = v.end - v.start;
  if (wit_version_parse(str, n)) return syntax(p, v, "invalid semver version");
  *out = wit_strndup(p->mem, str, n);
  if (span) *span = v;
  return 0;
}

static int parse_opt_version(P *p, char **out, wit_span *span) {
  *out = NULL;
  int r = eat(p, T_AT);
  if (r <= 0) return r;
  return parse_version(p, span, out);
}

static int eat_id(P *p, const char *expected) {
  ast_id id;
  if (parse_id(p, &id)) return -1;
  if (strcmp(id.name, expected) != 0)
    return wit_error_at(p->err, p->mem, id.span, "expected `%s`, found `%s`", expected, id.name);
  return 0;
}

static int parse_attrs(P *p, ast_attrs *out) {
  memset(out, 0, sizeof *out);
  for (;;) {
    int r = eat(p, T_AT);
    if (r < 0) return -1;
    if (!r) return 0;
    ast_id id;
    if (parse_id(p, &id)) return -1;
    ast_attr a = {0, id.span, NULL};
    if (!strcmp(id.name, "since") || !strcmp(id.name, "deprecated")) {
      a.kind = id.name[0] == 's' ? ATTR_SINCE : ATTR_DEPRECATED;
      if (expect(p, T_LPAREN, NULL) || eat_id(p, "version") || expect(p, T_EQUALS, NULL) ||
          parse_version(p, NULL, &a.text) || expect(p, T_RPAREN, NULL))
        return -1;
    } else if (!strcmp(id.name, "unstable")) {
      a.kind = ATTR_UNSTABLE;
      ast_id f;
      if (expect(p, T_LPAREN, NULL) || eat_id(p, "feature") || expect(p, T_EQUALS, NULL) ||
          parse_id(p, &f) || expect(p, T_RPAREN, NULL))
        return -1;
      a.text = f.name;
    } else if (!strcmp(id.name, "external-id")) {
      a.kind = ATTR_EXTERNAL_ID;
      wit_span s;
      if (expect(p, T_LPAREN, NULL) || expect(p, T_STRING, &s) || wit_lex_string(p, s, &a.text) ||
          expect(p, T_RPAREN, NULL))
        return -1;
    } else {
      return wit_error_at(p->err, p->mem, id.span, "unknown attribute `%s`", id.name);
    }
    wit_push(p->mem, *out, a);
  }
}

/* ---- types ---- */
static int parse_type(P *p, ast_type **out, int depth);
static int angle_type_rest(P *p, ast_type **out, int depth);

static ast_type *new_type(P *p, int kind, wit_span span) {
  ast_type *t = wit_alloc(p->mem, sizeof *t);
  t->kind = kind;
  t->span = span;
  return t;
}

/* parse_list_trailer: items separated by ',' until `end`, trailing comma allowed */
typedef int (*item_fn)(P *p, ast_docs *docs, void *ctx);
static int parse_list_trailer(P *p, int end, item_fn f, void *ctx) {
  for (;;) {
    ast_docs docs;
    if (parse_docs(p, &docs)) return -1;
    int r = eat(p, end);
    if (r < 0) return -1;
    if (r) return 0;
    if (f(p, &docs, ctx)) return -1;
    r = eat(p, T_COMMA);
    if (r < 0) return -1;
    if (!r) return expect(p, end, NULL);
  }
}

static int parse_list(P *p, int start, int end, item_fn f, void *ctx) {
  if (expect(p, start, NULL)) return -1;
  return parse_list_trailer(p, end, f, ctx);
}

typedef struct { ast_type *t; int depth; } tctx;

static int tuple_item(P *p, ast_docs *d, void *vc) {
  (void)d;
  tctx *c = vc;
  ast_field f = {0};
  if (parse_type(p, &f.ty, c->depth + 1)) return -1;
  wit_push(p->mem, c->t->items, f);
  return 0;
}

static int angle_type(P *p, ast_type **out, int depth) {
  return expect(p, T_LT, NULL) || parse_type(p, out, depth + 1) || expect(p, T_GT, NULL) ? -1 : 0;
}

static int opt_angle_type(P *p, ast_type **out, int depth) {
  *out = NULL;
  int r = eat(p, T_LT);
  if (r <= 0) return r;
  return angle_type_rest(p, out, depth);
}

static int parse_list_type(P *p, wit_span span, ast_type **out, int depth) {
  ast_type *t = new_type(p, AT_LIST, span);
  if (expect(p, T_LT, NULL) || parse_type(p, &t->a, depth + 1)) return -1;
  int r = eat(p, T_COMMA);
  if (r < 0) return -1;
  if (r) {
    wit_token n;
    if (wit_lex_next(p, &n)) return -1;
    if (n.kind != T_INTEGER) return err_expected(p, "fixed-length", &n);
    uint64_t v = 0;
    for (const char *c = text(p, n.span); c < text(p, n.span) + (n.span.end - n.span.start); c++) {
      v = v * 10 + (uint64_t)(*c - '0');
      if (v > 0xffffffffu) return syntax(p, n.span, "invalid list size: number too large to fit in target type");
    }
    t->kind = AT_FIXED_LIST;
    t->size = (uint32_t)v;
  }
  if (expect(p, T_GT, NULL)) return -1;
  *out = t;
  return 0;
}

static int parse_result_type(P *p, ast_type *t, int depth) {
  int r = eat(p, T_LT);
  if (r <= 0) return r;
  r = eat(p, T_UNDERSCORE);
  if (r < 0) return -1;
  if (r) {
    if (expect(p, T_COMMA, NULL) || parse_type(p, &t->b, depth + 1)) return -1;
  } else {
    if (parse_type(p, &t->a, depth + 1)) return -1;
    r = eat(p, T_COMMA);
    if (r < 0 || (r && parse_type(p, &t->b, depth + 1))) return -1;
  }
  return expect(p, T_GT, NULL);
}

static int prim_kind(int tok) {
  switch (tok) {
  case T_U8: return AT_U8;
  case T_U16: return AT_U16;
  case T_U32: return AT_U32;
  case T_U64: return AT_U64;
  case T_S8: return AT_S8;
  case T_S16: return AT_S16;
  case T_S32: return AT_S32;
  case T_S64: return AT_S64;
  case T_F32: return AT_F32;
  case T_F64: return AT_F64;
  case T_CHAR: return AT_CHAR;
  case T_BOOL: return AT_BOOL;
  case T_STRING_: return AT_STRING;
  case T_ERROR_CONTEXT: return AT_ERROR_CONTEXT;
  }
  return -1;
}

static int parse_type(P *p, ast_type **out, int depth) {
  wit_token t;
  if (wit_lex_next(p, &t)) return -1;
  if (depth >= MAX_TYPE_DEPTH) {
    wit_span s = t.span;
    if (t.kind == T_EOF) s = (wit_span){p->offset + (uint32_t)p->len, p->offset + (uint32_t)p->len};
    return syntax(p, s, "type nesting too deep");
  }
  int pk = prim_kind(t.kind);
  if (pk >= 0) { *out = new_type(p, pk, t.span); return 0; }
  ast_type *ty;
  switch (t.kind) {
  case T_TUPLE: {
    ty = new_type(p, AT_TUPLE, t.span);
    tctx c = {ty, depth};
    if (parse_list(p, T_LT, T_GT, tuple_item, &c)) return -1;
    break;
  }
  case T_LIST: return parse_list_type(p, t.span, out, depth);
  case T_MAP:
    ty = new_type(p, AT_MAP, t.span);
    if (expect(p, T_LT, NULL) || parse_type(p, &ty->a, depth + 1) || expect(p, T_COMMA, NULL) ||
        parse_type(p, &ty->b, depth + 1) || expect(p, T_GT, NULL))
      return -1;
    break;
  case T_OPTION:
    ty = new_type(p, AT_OPTION, t.span);
    if (angle_type(p, &ty->a, depth)) return -1;
    break;
  case T_RESULT:
    ty = new_type(p, AT_RESULT, t.span);
    if (parse_result_type(p, ty, depth)) return -1;
    break;
  case T_FUTURE: case T_STREAM:
    ty = new_type(p, t.kind == T_FUTURE ? AT_FUTURE : AT_STREAM, t.span);
    if (opt_angle_type(p, &ty->a, depth) < 0) return -1;
    break;
  case T_OWN: case T_BORROW:
    ty = new_type(p, t.kind == T_OWN ? AT_OWN : AT_BORROW, t.span);
    if (expect(p, T_LT, NULL) || parse_id(p, &ty->id) || expect(p, T_GT, NULL)) return -1;
    ty->span = ty->id.span;
    break;
  case T_ID: case T_EXPLICIT_ID:
    ty = new_type(p, AT_NAME, t.span);
    if (id_from_token(p, &t, &ty->id)) return -1;
    break;
  default:
    return err_expected(p, "a type", &t);
  }
  *out = ty;
  return 0;
}

/* angle_type_rest: after '<' was eaten */
static int angle_type_rest(P *p, ast_type **out, int depth) {
  return parse_type(p, out, depth + 1) || expect(p, T_GT, NULL) ? -1 : 0;
}

/* ---- functions ---- */
static int param_item(P *p, ast_docs *d, void *vc) {
  (void)d;
  ast_func *f = vc;
  ast_param prm;
  if (parse_id(p, &prm.name) || expect(p, T_COLON, NULL) || parse_type(p, &prm.ty, 0)) return -1;
  wit_push(p->mem, f->params, prm);
  return 0;
}

static int parse_opt_result(P *p, ast_func *f) {
  int r = eat(p, T_RARROW);
  if (r <= 0) return r;
  return parse_type(p, &f->result, 0);
}

static int parse_func(P *p, ast_func *f) {
  memset(f, 0, sizeof *f);
  int r = eat(p, T_ASYNC);
  if (r < 0) return -1;
  f->async_ = r;
  if (expect(p, T_FUNC, &f->span) || expect(p, T_LPAREN, NULL) ||
      parse_list_trailer(p, T_RPAREN, param_item, f) || parse_opt_result(p, f) < 0)
    return -1;
  return 0;
}

static int parse_named_func(P *p, ast_docs *docs, ast_attrs *attrs, ast_named_func *nf) {
  nf->docs = *docs;
  nf->attrs = *attrs;
  return parse_id(p, &nf->name) || expect(p, T_COLON, NULL) || parse_func(p, &nf->func) ||
                 expect(p, T_SEMICOLON, NULL)
             ? -1
             : 0;
}

static int parse_resource_func(P *p, ast_docs *docs, ast_attrs *attrs, ast_rfunc *rf) {
  wit_token t;
  if (peek(p, &t)) return -1;
  memset(rf, 0, sizeof *rf);
  rf->f.docs = *docs;
  rf->f.attrs = *attrs;
  if (t.kind == T_CONSTRUCTOR) {
    wit_lex_next(p, &t);
    rf->kind = RF_CONSTRUCTOR;
    rf->f.name = (ast_id){"constructor", t.span};
    rf->f.func.span = t.span;
    if (expect(p, T_LPAREN, NULL) || parse_list_trailer(p, T_RPAREN, param_item, &rf->f.func) ||
        parse_opt_result(p, &rf->f.func) < 0 || expect(p, T_SEMICOLON, NULL))
      return -1;
    return 0;
  }
  if (t.kind == T_ID || t.kind == T_EXPLICIT_ID) {
    if (parse_id(p, &rf->f.name) || expect(p, T_COLON, NULL)) return -1;
    int r = eat(p, T_STATIC);
    if (r < 0) return -1;
    rf->kind = r ? RF_STATIC : RF_METHOD;
    return parse_func(p, &rf->f.func) || expect(p, T_SEMICOLON, NULL) ? -1 : 0;
  }
  return err_expected(p, "`constructor` or identifier", &t);
}

/* ---- type definitions ---- */
static int field_item(P *p, ast_docs *d, void *vc) {
  ast_type *t = vc;
  ast_field f = {*d, {0}, NULL};
  if (parse_id(p, &f.name) || expect(p, T_COLON, NULL) || parse_type(p, &f.ty, 0)) return -1;
  wit_push(p->mem, t->items, f);
  return 0;
}

static int name_item(P *p, ast_docs *d, void *vc) {
  ast_type *t = vc;
  ast_field f = {*d, {0}, NULL};
  if (parse_id(p, &f.name)) return -1;
  wit_push(p->mem, t->items, f);
  return 0;
}

static int case_item(P *p, ast_docs *d, void *vc) {
  ast_type *t = vc;
  ast_field f = {*d, {0}, NULL};
  if (parse_id(p, &f.name)) return -1;
  int r = eat(p, T_LPAREN);
  if (r < 0) return -1;
  if (r && (parse_type(p, &f.ty, 0) || expect(p, T_RPAREN, NULL))) return -1;
  wit_push(p->mem, t->items, f);
  return 0;
}

static int parse_typedef(P *p, ast_docs *docs, ast_attrs *attrs, ast_typedef *td) {
  wit_token t;
  td->docs = *docs;
  td->attrs = *attrs;
  if (wit_lex_next(p, &t) || parse_id(p, &td->name)) return -1;
  ast_type *ty;
  switch (t.kind) {
  case T_TYPE:
    return expect(p, T_EQUALS, NULL) || parse_type(p, &td->ty, 0) || expect(p, T_SEMICOLON, NULL)
               ? -1
               : 0;
  case T_FLAGS:
    ty = td->ty = new_type(p, AT_FLAGS, td->name.span);
    return parse_list(p, T_LBRACE, T_RBRACE, name_item, ty);
  case T_ENUM:
    ty = td->ty = new_type(p, AT_ENUM, td->name.span);
    return parse_list(p, T_LBRACE, T_RBRACE, name_item, ty);
  case T_RECORD:
    ty = td->ty = new_type(p, AT_RECORD, td->name.span);
    return parse_list(p, T_LBRACE, T_RBRACE, field_item, ty);
  case T_VARIANT:
    ty = td->ty = new_type(p, AT_VARIANT, td->name.span);
    return parse_list(p, T_LBRACE, T_RBRACE, case_item, ty);
  case T_RESOURCE: {
    ty = td->ty = new_type(p, AT_RESOURCE, td->name.span);
    int r = eat(p, T_LBRACE);
    if (r < 0) return -1;
    if (!r) return expect(p, T_SEMICOLON, NULL);
    for (;;) {
      r = eat(p, T_RBRACE);
      if (r < 0) return -1;
      if (r) return 0;
      ast_docs d;
      ast_attrs a;
      ast_rfunc rf;
      if (parse_docs(p, &d) || parse_attrs(p, &a) || parse_resource_func(p, &d, &a, &rf)) return -1;
      wit_push(p->mem, ty->funcs, rf);
    }
  }
  }
  return -1;
}

/* ---- use paths, use, include ---- */
static int parse_use_path(P *p, ast_usepath *u) {
  memset(u, 0, sizeof *u);
  ast_id id;
  if (parse_id(p, &id)) return -1;
  int r = eat(p, T_COLON);
  if (r < 0) return -1;
  if (!r) {
    u->id = id;
    return 0;
  }
  u->is_pkg = 1;
  u->pkg.ns = id;
  if (parse_id(p, &u->pkg.name) || expect(p, T_SLASH, NULL) || parse_id(p, &u->name) ||
      parse_opt_version(p, &u->pkg.version, &u->pkg.version_span) < 0)
    return -1;
  u->pkg.span = (wit_span){id.span.start, u->pkg.name.span.end};
  u->pkg.docs.span = wit_span_unknown();
  return 0;
}

static const ast_id *use_path_name(const ast_usepath *u) { return u->is_pkg ? &u->name : &u->id; }

static int parse_use(P *p, ast_attrs *attrs, ast_use *u) {
  memset(u, 0, sizeof *u);
  u->attrs = *attrs;
  if (expect(p, T_USE, NULL) || parse_use_path(p, &u->from) || expect(p, T_PERIOD, NULL) ||
      expect(p, T_LBRACE, NULL))
    return -1;
  for (;;) {
    int r = eat(p, T_RBRACE);
    if (r < 0) return -1;
    if (r) break;
    ast_use_name n = {{0}, {0}};
    if (parse_id(p, &n.name)) return -1;
    r = eat(p, T_AS);
    if (r < 0 || (r && parse_id(p, &n.as))) return -1;
    wit_push(p->mem, u->names, n);
    r = eat(p, T_COMMA);
    if (r < 0) return -1;
    if (!r) {
      if (expect(p, T_RBRACE, NULL)) return -1;
      break;
    }
  }
  return expect(p, T_SEMICOLON, NULL);
}

static int include_name_item(P *p, ast_docs *d, void *vc) {
  (void)d;
  ast_include *inc = vc;
  ast_use_name n;
  if (parse_id(p, &n.name) || expect(p, T_AS, NULL) || parse_id(p, &n.as)) return -1;
  wit_push(p->mem, inc->names, n);
  return 0;
}

static int parse_include(P *p, ast_attrs *attrs, ast_include *inc) {
  memset(inc, 0, sizeof *inc);
  inc->attrs = *attrs;
  if (expect(p, T_INCLUDE, NULL) || parse_use_path(p, &inc->from)) return -1;
  int r = eat(p, T_WITH);
  if (r < 0) return -1;
  if (r) return parse_list(p, T_LBRACE, T_RBRACE, include_name_item, inc);
  return expect(p, T_SEMICOLON, NULL);
}

/* ---- interfaces ---- */
static int parse_interface_item(P *p, ast_docs *docs, ast_attrs *attrs, ast_iitem *it) {
  wit_token t;
  if (peek(p, &t)) return -1;
  memset(it, 0, sizeof *it);
  switch (t.kind) {
  case T_TYPE: case T_FLAGS: case T_ENUM: case T_VARIANT: case T_RESOURCE: case T_RECORD:
    it->kind = II_TYPEDEF;
    return parse_typedef(p, docs, attrs, &it->td);
  case T_ID: case T_EXPLICIT_ID:
    it->kind = II_FUNC;
    return parse_named_func(p, docs, attrs, &it->func);
  case T_USE:
    it->kind = II_USE;
    return parse_use(p, attrs, &it->use);
  }
  return err_expected(p, "`type`, `resource` or `func`", &t);
}

static int parse_interface_items(P *p, ast_iitems *items) {
  memset(items, 0, sizeof *items);
  if (expect(p, T_LBRACE, NULL)) return -1;
  for (;;) {
    ast_docs docs;
    if (parse_docs(p, &docs)) return -1;
    int r = eat(p, T_RBRACE);
    if (r < 0) return -1;
    if (r) return 0;
    ast_attrs attrs;
    ast_iitem it;
    if (parse_attrs(p, &attrs) || parse_interface_item(p, &docs, &attrs, &it)) return -1;
    wit_push(p->mem, *items, it);
  }
}

static int parse_interface(P *p, ast_docs *docs, ast_attrs *attrs, ast_interface *i) {
  i->docs = *docs;
  i->attrs = *attrs;
  return expect(p, T_INTERFACE, NULL) || parse_id(p, &i->name) || parse_interface_items(p, &i->items)
             ? -1
             : 0;
}

/* ---- worlds ---- */
static int parse_extern(P *p, ast_extern *e) {
  memset(e, 0, sizeof *e);
  P c = *p;
  ast_id id;
  if (parse_id(&c, &id)) return -1;
  {
    int r = eat(&c, T_COLON);
    if (r < 0) return -1;
    if (r) {
      wit_token t;
      if (peek(&c, &t)) return -1;
      if (t.kind == T_FUNC || t.kind == T_ASYNC) {
        *p = c;
        e->kind = EK_FUNC;
        e->id = id;
        return parse_func(p, &e->func) || expect(p, T_SEMICOLON, NULL) ? -1 : 0;
      }
      if (t.kind == T_INTERFACE) {
        wit_lex_next(&c, &t);
        *p = c;
        e->kind = EK_INTERFACE;
        e->id = id;
        return parse_interface_items(p, &e->items);
      }
      P pk = c;
      ast_id tmp;
      wit_error saved = *p->err;
      int qualified = parse_id(&pk, &tmp) == 0 && eat(&pk, T_SLASH) == 1;
      *p->err = saved;
      if (!qualified) {
        *p = c;
        e->kind = EK_NAMED_PATH;
        e->id = id;
        return parse_use_path(p, &e->path) || expect(p, T_SEMICOLON, NULL) ? -1 : 0;
      }
    }
  }
  e->kind = EK_PATH;
  return parse_use_path(p, &e->path) || expect(p, T_SEMICOLON, NULL) ? -1 : 0;
}

static int parse_world_item(P *p, ast_docs *docs, ast_attrs *attrs, ast_witem *w) {
  wit_token t;
  if (peek(p, &t)) return -1;
  memset(w, 0, sizeof *w);
  w->docs = *docs;
  w->attrs = *attrs;
  switch (t.kind) {
  case T_IMPORT: case T_EXPORT:
    wit_lex_next(p, &t);
    w->kind = t.kind == T_IMPORT ? WI_IMPORT : WI_EXPORT;
    return parse_extern(p, &w->ext);
  case T_USE:
    w->kind = WI_USE;
    return parse_use(p, attrs, &w->use);
  case T_TYPE: case T_FLAGS: case T_RESOURCE: case T_RECORD: case T_VARIANT: case T_ENUM:
    w->kind = WI_TYPE;
    return parse_typedef(p, docs, attrs, &w->td);
  case T_INCLUDE:
    w->kind = WI_INCLUDE;
    return parse_include(p, attrs, &w->inc);
  }
  return err_expected(p, "`import`, `export`, `include`, `use`, or type definition", &t);
}

static int parse_world(P *p, ast_docs *docs, ast_attrs *attrs, ast_world *w) {
  memset(w, 0, sizeof *w);
  w->docs = *docs;
  w->attrs = *attrs;
  if (expect(p, T_WORLD, NULL) || parse_id(p, &w->name) || expect(p, T_LBRACE, NULL)) return -1;
  for (;;) {
    ast_docs d;
    if (parse_docs(p, &d)) return -1;
    int r = eat(p, T_RBRACE);
    if (r < 0) return -1;
    if (r) return 0;
    ast_attrs a;
    ast_witem it;
    if (parse_attrs(p, &a) || parse_world_item(p, &d, &a, &it)) return -1;
    wit_push(p->mem, w->items, it);
  }
}

/* ---- packages and top-level items ---- */
static int parse_pkgname(P *p, ast_docs *docs, ast_pkgname *n) {
  memset(n, 0, sizeof *n);
  n->docs = *docs;
  if (parse_id(p, &n->ns) || expect(p, T_COLON, NULL) || parse_id(p, &n->name) ||
      parse_opt_version(p, &n->version, &n->version_span) < 0)
    return -1;
  n->span = (wit_span){n->ns.span.start, n->version ? n->version_span.end : n->name.span.end};
  return 0;
}

static int parse_decls(P *p, int end, int depth, ast_decls *out);

static int parse_toplevel_use(P *p, ast_attrs *attrs, ast_toplevel_use *u) {
  memset(u, 0, sizeof *u);
  u->attrs = *attrs;
  if (expect(p, T_USE, &u->span) || parse_use_path(p, &u->item)) return -1;
  int r = eat(p, T_AS);
  if (r < 0 || (r && parse_id(p, &u->as))) return -1;
  return expect(p, T_SEMICOLON, NULL);
}

static int parse_nested(P *p, ast_docs *docs, ast_attrs *attrs, int depth, ast_pkgfile **out) {
  wit_span span;
  if (expect(p, T_PACKAGE, &span)) return -1;
  if (attrs->n) return syntax(p, span, "cannot place attributes on nested packages");
  if (depth >= MAX_ITEM_DEPTH) return syntax(p, span, "package nesting too deep");
  ast_pkgfile *f = wit_alloc(p->mem, sizeof *f);
  f->has_name = 1;
  if (parse_pkgname(p, docs, &f->name) || expect(p, T_LBRACE, NULL) ||
      parse_decls(p, T_RBRACE, depth + 1, &f->decls))
    return -1;
  *out = f;
  return 0;
}

static int parse_item(P *p, ast_docs *docs, int depth, ast_item *it) {
  ast_attrs attrs;
  if (parse_attrs(p, &attrs)) return -1;
  wit_token t;
  if (peek(p, &t)) return -1;
  memset(it, 0, sizeof *it);
  switch (t.kind) {
  case T_INTERFACE: it->kind = AI_INTERFACE; return parse_interface(p, docs, &attrs, &it->iface);
  case T_WORLD: it->kind = AI_WORLD; return parse_world(p, docs, &attrs, &it->world);
  case T_USE: it->kind = AI_USE; return parse_toplevel_use(p, &attrs, &it->use);
  case T_PACKAGE: it->kind = AI_PACKAGE; return parse_nested(p, docs, &attrs, depth, &it->pkg);
  }
  return err_expected(p, "`world`, `interface` or `use`", &t);
}

static int parse_decls(P *p, int end, int depth, ast_decls *out) {
  memset(out, 0, sizeof *out);
  ast_docs docs;
  if (parse_docs(p, &docs)) return -1;
  for (;;) {
    if (end == T_EOF) {
      wit_token t;
      if (peek(p, &t)) return -1;
      if (t.kind == T_EOF) return 0;
    } else {
      int r = eat(p, end);
      if (r < 0) return -1;
      if (r) return 0;
    }
    ast_item it;
    if (parse_item(p, &docs, depth, &it)) return -1;
    wit_push(p->mem, *out, it);
    if (parse_docs(p, &docs)) return -1;
  }
}

int wit_parse_file(wit_lexer *p, ast_pkgfile *out) {
  memset(out, 0, sizeof *out);
  P peekp = *p;
  ast_docs docs;
  if (parse_docs(&peekp, &docs)) return -1;
  int r = eat(&peekp, T_PACKAGE);
  if (r < 0) return -1;
  if (r) {
    if (parse_pkgname(&peekp, &docs, &out->name)) return -1;
    r = eat(&peekp, T_SEMICOLON);
    if (r < 0) return -1;
    if (r) {
      *p = peekp;
      out->has_name = 1;
    }
  }
  return parse_decls(p, T_EOF, 0, &out->decls);
}

const ast_id *wit_use_path_name(const ast_usepath *u);
const ast_id *wit_use_path_name(const ast_usepath *u) { return use_path_name(u); }
