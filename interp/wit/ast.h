/* WIT tokens and syntax tree (wit-parser's ast/lex.rs and ast.rs). */
#ifndef CMREF_WIT_AST_H
#define CMREF_WIT_AST_H

#include "wit/wit.h"

enum wit_tok {
  T_WHITESPACE, T_COMMENT, T_EQUALS, T_COMMA, T_COLON, T_PERIOD, T_SEMICOLON,
  T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LT, T_GT, T_RARROW, T_STAR, T_AT,
  T_SLASH, T_PLUS, T_MINUS, T_STRING,
  T_USE, T_TYPE, T_FUNC, T_U8, T_U16, T_U32, T_U64, T_S8, T_S16, T_S32, T_S64,
  T_F32, T_F64, T_CHAR, T_RECORD, T_RESOURCE, T_OWN, T_BORROW, T_FLAGS,
  T_VARIANT, T_ENUM, T_BOOL, T_STRING_, T_OPTION, T_RESULT, T_FUTURE, T_STREAM,
  T_ERROR_CONTEXT, T_LIST, T_MAP, T_UNDERSCORE, T_AS, T_FROM, T_STATIC,
  T_INTERFACE, T_TUPLE, T_IMPORT, T_EXPORT, T_WORLD, T_PACKAGE, T_CONSTRUCTOR,
  T_ASYNC, T_ID, T_EXPLICIT_ID, T_INTEGER, T_INCLUDE, T_WITH,
  T_EOF
};

typedef struct wit_lexer {
  const char *input; /* one file's text, without the appended '\n' */
  size_t len;
  size_t pos;
  uint32_t offset; /* global offset of input[0] */
  wit_arena *mem;
  wit_error *err;
} wit_lexer;

typedef struct wit_token {
  int kind;
  wit_span span;
} wit_token;

int wit_lex_init(wit_lexer *lx, const char *input, size_t len, uint32_t offset,
                 wit_arena *mem, wit_error *err);
int wit_lex_next(wit_lexer *lx, wit_token *t);     /* skips whitespace and comments */
int wit_lex_next_raw(wit_lexer *lx, wit_token *t); /* 0 ok (T_EOF at end), -1 error */
const char *wit_tok_describe(int kind);
int wit_validate_id(wit_lexer *lx, uint32_t start, const char *id, size_t n);
int wit_lex_string(wit_lexer *lx, wit_span span, char **out);

/* ---- syntax tree ---- */
typedef struct ast_id {
  char *name;
  wit_span span;
} ast_id;

typedef struct ast_docs {
  WIT_VEC(char *) lines; /* raw comment texts */
  wit_span span;
} ast_docs;

enum { ATTR_SINCE, ATTR_UNSTABLE, ATTR_DEPRECATED, ATTR_EXTERNAL_ID };
typedef struct ast_attr {
  int kind;
  wit_span span;
  char *text; /* version, feature or id */
} ast_attr;
typedef WIT_VEC(ast_attr) ast_attrs;

typedef struct ast_pkgname {
  ast_docs docs;
  wit_span span;
  ast_id ns, name;
  char *version;
  wit_span version_span;
} ast_pkgname;

typedef struct ast_usepath {
  int is_pkg;
  ast_id id;        /* UsePath::Id */
  ast_pkgname pkg;  /* UsePath::Package */
  ast_id name;
} ast_usepath;

enum {
  AT_BOOL, AT_U8, AT_U16, AT_U32, AT_U64, AT_S8, AT_S16, AT_S32, AT_S64, AT_F32,
  AT_F64, AT_CHAR, AT_STRING, AT_NAME, AT_LIST, AT_MAP, AT_FIXED_LIST, AT_OWN,
  AT_BORROW, AT_RESOURCE, AT_RECORD, AT_FLAGS, AT_VARIANT, AT_TUPLE, AT_ENUM,
  AT_OPTION, AT_RESULT, AT_FUTURE, AT_STREAM, AT_ERROR_CONTEXT
};

typedef struct ast_type ast_type;
typedef struct ast_field {
  ast_docs docs;
  ast_id name;
  ast_type *ty; /* may be NULL for a case without payload, flags, enum cases */
} ast_field;

typedef struct ast_param {
  ast_id name;
  ast_type *ty;
} ast_param;

typedef struct ast_func {
  wit_span span;
  int async_;
  WIT_VEC(ast_param) params;
  ast_type *result;
} ast_func;

typedef struct ast_named_func {
  ast_docs docs;
  ast_attrs attrs;
  ast_id name;
  ast_func func;
} ast_named_func;

enum { RF_METHOD, RF_STATIC, RF_CONSTRUCTOR };
typedef struct ast_rfunc {
  int kind;
  ast_named_func f;
} ast_rfunc;

struct ast_type {
  int kind;
  wit_span span;
  ast_id id;           /* AT_NAME, AT_OWN, AT_BORROW */
  ast_type *a, *b;     /* element / key, value / ok, err / payload */
  uint32_t size;
  WIT_VEC(ast_field) items; /* record fields, flags, cases, tuple types */
  WIT_VEC(ast_rfunc) funcs;
};

typedef struct ast_typedef {
  ast_docs docs;
  ast_attrs attrs;
  ast_id name;
  ast_type *ty;
} ast_typedef;

typedef struct ast_use_name {
  ast_id name;
  ast_id as; /* as.name NULL when absent */
} ast_use_name;

typedef struct ast_use {
  ast_attrs attrs;
  ast_usepath from;
  WIT_VEC(ast_use_name) names;
} ast_use;

typedef struct ast_include {
  ast_attrs attrs;
  ast_usepath from;
  WIT_VEC(ast_use_name) names;
} ast_include;

enum { II_TYPEDEF, II_FUNC, II_USE };
typedef struct ast_iitem {
  int kind;
  ast_typedef td;
  ast_named_func func;
  ast_use use;
} ast_iitem;
typedef WIT_VEC(ast_iitem) ast_iitems;

enum { EK_INTERFACE, EK_PATH, EK_FUNC, EK_NAMED_PATH };
typedef struct ast_extern {
  int kind;
  ast_id id;
  ast_iitems items;
  ast_usepath path;
  ast_func func;
} ast_extern;

enum { WI_IMPORT, WI_EXPORT, WI_USE, WI_TYPE, WI_INCLUDE };
typedef struct ast_witem {
  int kind;
  ast_docs docs;
  ast_attrs attrs;
  ast_extern ext;
  ast_use use;
  ast_typedef td;
  ast_include inc;
} ast_witem;

typedef struct ast_interface {
  ast_docs docs;
  ast_attrs attrs;
  ast_id name;
  ast_iitems items;
} ast_interface;

typedef struct ast_world {
  ast_docs docs;
  ast_attrs attrs;
  ast_id name;
  WIT_VEC(ast_witem) items;
} ast_world;

typedef struct ast_toplevel_use {
  wit_span span;
  ast_attrs attrs;
  ast_usepath item;
  ast_id as;
} ast_toplevel_use;

typedef struct ast_pkgfile ast_pkgfile;
enum { AI_INTERFACE, AI_WORLD, AI_USE, AI_PACKAGE };
typedef struct ast_item {
  int kind;
  ast_interface iface;
  ast_world world;
  ast_toplevel_use use;
  ast_pkgfile *pkg;
} ast_item;
typedef WIT_VEC(ast_item) ast_decls;

struct ast_pkgfile {
  int has_name;
  ast_pkgname name;
  ast_decls decls;
};

int wit_parse_file(wit_lexer *lx, ast_pkgfile *out);

#endif
