/* cmref WIT front-end: lexer, parser and resolver for WIT packages (WIT.md).
 *
 * Mirrors the reference implementation (wasm-tools' wit-parser) stage by stage:
 *   lex.c      tokens (ast/lex.rs)
 *   parse.c    syntax tree (ast.rs)
 *   unresolved.c  one package's internal names resolved (ast/resolve.rs)
 *   resolve.c  packages merged into one Resolve: foreign deps, stability gates,
 *              includes, world elaboration (resolve/mod.rs)
 *   fs.c       files, directories and deps/ folders (resolve/fs.rs), source map
 *   json.c     the Resolve printed in wit-parser's serde JSON shape
 * Everything is allocated from one arena per Resolve and freed with it. Every
 * failure is a returned error (file:line:column + message); nothing aborts.
 */
#ifndef CMREF_WIT_H
#define CMREF_WIT_H

#include <stddef.h>
#include <stdint.h>

/* ---- memory ---- */
typedef struct wit_chunk wit_chunk;
typedef struct wit_arena {
  wit_chunk *head;
} wit_arena;

void *wit_alloc(wit_arena *a, size_t n);
void wit_arena_free(wit_arena *a);
char *wit_strndup(wit_arena *a, const char *s, size_t n);
char *wit_strdup(wit_arena *a, const char *s);
char *wit_fmt(wit_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wit_vgrow(wit_arena *a, void **v, int *cap, int n, size_t elem);

#define WIT_VEC(T) struct { T *v; int n, cap; }
#define wit_push(A, vec, x)                                                    \
  do {                                                                         \
    wit_vgrow((A), (void **)&(vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v));  \
    (vec).v[(vec).n++] = (x);                                                  \
  } while (0)

typedef WIT_VEC(int) wit_ints;

/* ---- spans and errors ---- */
#define WIT_NOSPAN UINT32_MAX
typedef struct wit_span {
  uint32_t start, end;
} wit_span;
static inline wit_span wit_span_unknown(void) { return (wit_span){WIT_NOSPAN, WIT_NOSPAN}; }
static inline int wit_span_known(wit_span s) { return s.start != WIT_NOSPAN && s.end != WIT_NOSPAN; }

typedef struct wit_error {
  int set;
  wit_span span;   /* where, in the source map's global offsets */
  char *msg;       /* the message, without location */
  char *prefix;    /* context layers joined by ": " (anyhow's chain), or NULL */
  int duplicate;   /* DuplicatePackage: rendered with two locations */
  wit_span span2;
  int plain;       /* message only, not located */
} wit_error;

/* ---- source map ---- */
typedef struct wit_source {
  uint32_t offset;
  char *path;
  char *contents; /* with the trailing '\n' the reference appends */
  size_t len;
} wit_source;

typedef struct wit_srcmap {
  WIT_VEC(wit_source) sources;
  uint32_t offset;
} wit_srcmap;

/* ---- resolved items (wit-parser's lib.rs data model) ---- */
/* A `Type`: primitives are negative, a TypeId is >= 0. WIT_TNONE means "absent". */
typedef int32_t wit_type;
enum {
  WIT_TBOOL = -1, WIT_TU8 = -2, WIT_TU16 = -3, WIT_TU32 = -4, WIT_TU64 = -5,
  WIT_TS8 = -6, WIT_TS16 = -7, WIT_TS32 = -8, WIT_TS64 = -9, WIT_TF32 = -10,
  WIT_TF64 = -11, WIT_TCHAR = -12, WIT_TSTRING = -13, WIT_TERRCTX = -14,
  WIT_TNONE = -100
};
const char *wit_prim_name(wit_type t);

typedef struct wit_stability {
  int kind; /* WIT_STAB_UNKNOWN, _STABLE (since), _UNSTABLE (feature) */
  char *since;
  char *feature;
  char *deprecated;
} wit_stability;
enum { WIT_STAB_UNKNOWN, WIT_STAB_STABLE, WIT_STAB_UNSTABLE };

enum wit_tkind {
  WIT_K_RECORD, WIT_K_RESOURCE, WIT_K_OWN, WIT_K_BORROW, WIT_K_FLAGS, WIT_K_TUPLE,
  WIT_K_VARIANT, WIT_K_ENUM, WIT_K_OPTION, WIT_K_RESULT, WIT_K_LIST, WIT_K_MAP,
  WIT_K_FIXED_LIST, WIT_K_FUTURE, WIT_K_STREAM, WIT_K_TYPE, WIT_K_UNKNOWN
};
enum { WIT_OWNER_NONE, WIT_OWNER_WORLD, WIT_OWNER_INTERFACE };

typedef struct wit_item { /* a field, case, flag, enum case or tuple member */
  char *name;
  wit_type ty; /* WIT_TNONE when the case has no payload */
  char *docs;
  wit_span span;
} wit_item;
typedef WIT_VEC(wit_item) wit_items;

typedef struct wit_typedef {
  char *name; /* NULL when anonymous */
  int kind;
  int owner_kind, owner;
  char *docs;
  wit_stability stab;
  wit_span span;
  char *external_id;
  wit_items items;    /* record fields, variant/enum cases, flags, tuple types */
  wit_type a, b;      /* alias target, element, key/value, ok/err, handle target */
  uint32_t size;      /* fixed-length list */
} wit_typedef;

enum wit_fkind {
  WIT_F_FREESTANDING, WIT_F_ASYNC_FREESTANDING, WIT_F_METHOD, WIT_F_ASYNC_METHOD,
  WIT_F_STATIC, WIT_F_ASYNC_STATIC, WIT_F_CONSTRUCTOR
};

typedef struct wit_function {
  char *name;
  int kind;
  wit_type resource; /* for methods, statics and constructors */
  wit_items params;
  wit_type result; /* WIT_TNONE: no result */
  char *docs;
  wit_stability stab;
  wit_span span;
  char *external_id;
} wit_function;

typedef struct wit_named {
  char *name;
  int id;
  wit_span span;
} wit_named;
typedef WIT_VEC(wit_named) wit_names; /* an ordered name -> id map */

typedef struct wit_funcs {
  WIT_VEC(wit_function) f;
} wit_funcs;

typedef struct wit_interface {
  char *name; /* NULL for an inline world interface */
  wit_names types;
  wit_funcs funcs;
  char *docs;
  wit_stability stab;
  int package; /* -1: none */
  wit_span span;
  int clone_of; /* -1: none */
} wit_interface;

enum { WIT_WI_INTERFACE, WIT_WI_FUNCTION, WIT_WI_TYPE };
typedef struct wit_key {
  char *name; /* a plain name, or NULL: keyed by interface */
  int iface;
} wit_key;
typedef struct wit_witem {
  wit_key key;
  int kind;
  int id; /* interface or type */
  wit_stability stab;
  char *external_id;
  char *docs;
  wit_span span;
  wit_function func;
} wit_witem;
typedef WIT_VEC(wit_witem) wit_witems;

typedef struct wit_include_name {
  char *name, *as;
} wit_include_name;
typedef struct wit_include {
  wit_stability stab;
  int world;
  WIT_VEC(wit_include_name) names;
  wit_span span;
} wit_include;

typedef struct wit_world {
  char *name;
  wit_witems imports, exports;
  int package;
  char *docs;
  wit_stability stab;
  WIT_VEC(wit_include) includes;
  wit_span span;
} wit_world;

typedef struct wit_pkgname {
  char *ns, *name, *version; /* version NULL when absent */
} wit_pkgname;

typedef struct wit_package {
  wit_pkgname name;
  char *docs;
  wit_names interfaces, worlds;
} wit_package;

typedef struct wit_arenas {
  WIT_VEC(wit_world) worlds;
  WIT_VEC(wit_interface) interfaces;
  WIT_VEC(wit_typedef) types;
} wit_arenas;

/* Lookup of world items by key: linear for short lists, else through a hash index
 * cached per item array (arrays only grow by appending; wit_keycache_forget after
 * reordering one in place). */
typedef struct wit_keyidx {
  const wit_witem *v;
  int count, nslots;
  int *slots;
} wit_keyidx;
typedef struct wit_keycache {
  wit_keyidx e[4];
  int next;
} wit_keycache;
int wit_witems_find(wit_arena *m, wit_keycache *c, const wit_witems *items, const wit_key *k);
void wit_keycache_forget(wit_keycache *c, const wit_witems *items);

typedef struct wit_resolve {
  wit_keycache keys;
  wit_arena mem;
  wit_arenas a;
  WIT_VEC(wit_package) packages;
  WIT_VEC(char *) features;
  int all_features;
  wit_srcmap srcmap;
  wit_error err;
  int depth; /* recursion guard */
} wit_resolve;

/* ---- public entry points ---- */
void wit_resolve_init(wit_resolve *r);
void wit_resolve_free(wit_resolve *r);
/* Parse and resolve a file or a directory (with its deps/). Returns the package
 * id, or -1 with r->err set. */
int wit_push_path(wit_resolve *r, const char *path);
/* Parse and resolve one file's text (path only names it in errors). */
int wit_push_source(wit_resolve *r, const char *path, const char *text, size_t len);
/* The error rendered the way wit-parser renders it (caller frees). */
char *wit_render_error(wit_resolve *r);
/* The Resolve as JSON in wit-parser's serde shape (caller frees). */
char *wit_resolve_json(wit_resolve *r);

/* A component binary's type as the world `root` of package `root:component`
 * (wit-parser's decode of a component). Returns that package's id, or -1. */
int wit_decode_component(wit_resolve *r, const uint8_t *bytes, size_t len);
/* a component that encodes a WIT package, merged into r (wit-parser's _push_file of a wasm
 * file); any other component is an error. Returns the package id, or -1. */
int wit_decode_package(wit_resolve *r, const uint8_t *bytes, size_t len);

/* The package `pkg` encoded as a component type binary (wit-component's WIT package
 * encoding); *out is malloc'ed. Returns 0, or -1 with r->err set. */
int wit_encode_package(wit_resolve *r, int pkg, unsigned char **out, size_t *out_len);

/* The package `main_pkg` as WIT text, then `nested` packages as `package x { }` blocks,
 * laid out as wit-component's WitPrinter does (caller frees; NULL if not printable). */
char *wit_print(wit_resolve *r, int main_pkg, const int *nested, int nnested);

/* ---- internals shared between the stages ---- */
int wit_error_at(wit_error *e, wit_arena *m, wit_span span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
char *wit_pkgname_str(wit_arena *m, const wit_pkgname *p);
int wit_pkgname_eq(const wit_pkgname *a, const wit_pkgname *b);
int wit_pkgname_cmp(const wit_pkgname *a, const wit_pkgname *b);
int wit_version_parse(const char *s, size_t n); /* 0 ok */
int wit_version_cmp(const char *a, const char *b);
int wit_names_find(const wit_names *m, const char *name);
int wit_stab_eq(const wit_stability *a, const wit_stability *b);

#endif
