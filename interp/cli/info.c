/* `cmref info COMPONENT.wasm`: the component's imports and exports with their types, in a
 * WIT-like text (anonymous types written out structurally, as `cmref run` reads values). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "component/component.h"
#include "component/types.h"

#define MAX_DEPTH 40

static void type(FILE *o, const cmc_types *t, cmc_tid id, unsigned depth);

static void fields(FILE *o, const cmc_types *t, const cmc_type *ty, bool named, unsigned depth) {
  for (uint32_t i = 0; i < ty->n; i++) {
    fputs(i ? ", " : "", o);
    if (named) fprintf(o, "%s", ty->fields[i].name ? ty->fields[i].name : "?");
    if (named && ty->fields[i].type != CMC_NONE && ty->kind != CMC_T_VARIANT) fputs(": ", o);
    if (ty->fields[i].type == CMC_NONE) continue;
    if (ty->kind == CMC_T_VARIANT) fputc('(', o);
    type(o, t, ty->fields[i].type, depth + 1);
    if (ty->kind == CMC_T_VARIANT) fputc(')', o);
  }
}

static void opt_type(FILE *o, const cmc_types *t, cmc_tid id, unsigned depth) {
  if (id == CMC_NONE) fputc('_', o);
  else type(o, t, id, depth + 1);
}

static void func(FILE *o, const cmc_types *t, const cmc_type *ty, unsigned depth) {
  fprintf(o, "%sfunc(", ty->async ? "async " : "");
  fields(o, t, ty, true, depth);
  fputc(')', o);
  if (ty->a != CMC_NONE) {
    fputs(" -> ", o);
    type(o, t, ty->a, depth + 1);
  }
}

static void externs(FILE *o, const cmc_types *t, const char *what, const cmc_extern *x, uint32_t n,
                    unsigned indent, unsigned depth);

static void type(FILE *o, const cmc_types *t, cmc_tid id, unsigned depth) {
  if (id >= t->len || depth > MAX_DEPTH) {
    fputs("...", o);
    return;
  }
  const cmc_type *ty = &t->v[id];
  switch (ty->kind) {
  case CMC_T_PRIM: fputs(cmc_prim_name(ty->prim), o); return;
  case CMC_T_RECORD: fputs("record { ", o); fields(o, t, ty, true, depth); fputs(" }", o); return;
  case CMC_T_VARIANT: fputs("variant { ", o); fields(o, t, ty, true, depth); fputs(" }", o); return;
  case CMC_T_FLAGS: fputs("flags { ", o); fields(o, t, ty, true, depth); fputs(" }", o); return;
  case CMC_T_ENUM: fputs("enum { ", o); fields(o, t, ty, true, depth); fputs(" }", o); return;
  case CMC_T_TUPLE: fputs("tuple<", o); fields(o, t, ty, false, depth); fputc('>', o); return;
  case CMC_T_LIST: fputs("list<", o); type(o, t, ty->a, depth + 1); fputc('>', o); return;
  case CMC_T_FIXLIST:
    fputs("list<", o);
    type(o, t, ty->a, depth + 1);
    fprintf(o, ", %u>", ty->len);
    return;
  case CMC_T_OPTION: fputs("option<", o); type(o, t, ty->a, depth + 1); fputc('>', o); return;
  case CMC_T_RESULT:
    fputs("result<", o);
    opt_type(o, t, ty->a, depth);
    fputs(", ", o);
    opt_type(o, t, ty->b, depth);
    fputc('>', o);
    return;
  case CMC_T_MAP:
    fputs("map<", o);
    type(o, t, ty->a, depth + 1);
    fputs(", ", o);
    type(o, t, ty->b, depth + 1);
    fputc('>', o);
    return;
  case CMC_T_OWN: fprintf(o, "own<resource %u>", ty->a); return;
  case CMC_T_BORROW: fprintf(o, "borrow<resource %u>", ty->a); return;
  case CMC_T_STREAM: fputs("stream<", o); opt_type(o, t, ty->a, depth); fputc('>', o); return;
  case CMC_T_FUTURE: fputs("future<", o); opt_type(o, t, ty->a, depth); fputc('>', o); return;
  case CMC_T_FUNC: func(o, t, ty, depth); return;
  case CMC_T_RESOURCE: fprintf(o, "resource %u", id); return;
  case CMC_T_INSTANCE:
  case CMC_T_COMPONENT:
    fprintf(o, "%s {\n", ty->kind == CMC_T_INSTANCE ? "instance" : "component");
    externs(o, t, "import", ty->imports, ty->kind == CMC_T_COMPONENT ? ty->nimports : 0, depth + 1,
            depth);
    externs(o, t, "export", ty->exports, ty->nexports, depth + 1, depth);
    fprintf(o, "%*s}", 2 * (int)depth, "");
    return;
  default: fputs(cmc_type_desc(t, id), o); return;
  }
}

static const char *sort_name(int sort) {
  switch (sort) {
  case CMC_SORT_FUNC: return "func";
  case CMC_SORT_VALUE: return "value";
  case CMC_SORT_TYPE: return "type";
  case CMC_SORT_COMPONENT: return "component";
  case CMC_SORT_INSTANCE: return "instance";
  default: return "core module";
  }
}

static void externs(FILE *o, const cmc_types *t, const char *what, const cmc_extern *x, uint32_t n,
                    unsigned indent, unsigned depth) {
  for (uint32_t i = 0; i < n; i++) {
    fprintf(o, "%*s%s %s: ", 2 * (int)indent, "", what, x[i].name);
    if (x[i].sort == CMC_SORT_TYPE) fputs("type ", o);
    if (x[i].type == CMC_NONE) fputs(sort_name(x[i].sort), o);
    else if (x[i].sort == CMC_SORT_FUNC || x[i].sort == CMC_SORT_INSTANCE ||
             x[i].sort == CMC_SORT_COMPONENT || x[i].sort == CMC_SORT_TYPE ||
             x[i].sort == CMC_SORT_VALUE)
      type(o, t, x[i].type, depth + 1);
    else fputs(sort_name(x[i].sort), o);
    fputc('\n', o);
  }
}

int cli_info(const char *path) {
  size_t len;
  unsigned char *bytes = cli_read_file(path, &len);
  if (!bytes) {
    fprintf(stderr, "cmref: cannot read %s\n", path);
    return 1;
  }
  if (!cmc_comp_is_component(bytes, len)) {
    fprintf(stderr, "cmref: %s: not a component (cmref info reads components)\n", path);
    free(bytes);
    return 1;
  }
  cmc_comp_result res;
  cmc_error cerr;
  int rc = 0;
  if (!cmc_comp_validate(bytes, len, NULL, &res, &cerr)) {
    char msg[300];
    cmc_error_copy(msg, sizeof msg, &cerr);
    fprintf(stderr, "cmref: %s: %s: %s\n", path, cmref_errkind_name(cerr.kind), msg);
    rc = 1;
  } else {
    printf("component %s\n", path);
    externs(stdout, &res.types, "import", res.root->imports, res.root->nimports, 1, 0);
    externs(stdout, &res.types, "export", res.root->exports, res.root->nexports, 1, 0);
  }
  cmc_comp_free(&res);
  free(bytes);
  return rc;
}
