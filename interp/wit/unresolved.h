/* One WIT package with its internal names resolved (wit-parser's UnresolvedPackage). */
#ifndef CMREF_WIT_UNRESOLVED_H
#define CMREF_WIT_UNRESOLVED_H

#include "wit/ast.h"

typedef struct wit_foreign_item {
  char *name;
  int is_world;
  int id; /* the placeholder interface or world in this package's arenas */
  WIT_VEC(wit_stability) stabs;
} wit_foreign_item;

typedef struct wit_foreign_pkg {
  wit_pkgname name;
  wit_span span;
  WIT_VEC(wit_foreign_item) items;
} wit_foreign_pkg;

typedef struct wit_type_span {
  int id;
  wit_span span;
} wit_type_span;

typedef struct wit_unresolved {
  wit_pkgname name;
  wit_span name_span;
  char *docs;
  wit_arenas a;
  WIT_VEC(wit_foreign_pkg) foreign;
  WIT_VEC(wit_span) unknown_type_spans;
  WIT_VEC(wit_type_span) required_resource_types;
} wit_unresolved;

/* A package being put together from one or more parsed files. */
typedef struct wit_urctx wit_urctx;
wit_urctx *wit_ur_new(wit_arena *mem, wit_error *err);
int wit_ur_push(wit_urctx *r, ast_pkgfile *file);
int wit_ur_resolve(wit_urctx *r, wit_unresolved *out);

const ast_id *wit_use_path_name(const ast_usepath *u);

#endif
