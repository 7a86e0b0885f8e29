/* Boundary-crossing trace text (trace.h). */
#include "cli/trace.h"

#include <stdlib.h>
#include <string.h>

#include "cli/wave.h"
#include "component/types.h"

#define MAX_NAMES 100000
#define MAX_NESTING 8

const char *cli_trace_name_of(const cli_trace *t, const void *p, const char *dflt) {
  for (size_t i = 0; i < t->nnames; i++)
    if (t->names[i].p == p) return t->names[i].name;
  return dflt;
}

static void add_name(cli_trace *t, const void *p, const char *a, const char *sep, const char *b) {
  if (!p || t->nnames >= MAX_NAMES || cli_trace_name_of(t, p, NULL)) return;
  if (t->nnames == t->capnames) {
    size_t cap = t->capnames ? 2 * t->capnames : 64;
    cli_trace_name *g = realloc(t->names, cap * sizeof *g);
    if (!g) return;
    t->names = g;
    t->capnames = cap;
  }
  size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
  char *s = malloc(n);
  if (!s) return;
  snprintf(s, n, "%s%s%s", a, *a && *b ? sep : "", b);
  t->names[t->nnames++] = (cli_trace_name){p, s};
}

static void name_instance(cli_trace *t, const cmi_inst *ci, const char *prefix, unsigned depth) {
  if (!ci || depth > MAX_NESTING) return;
  for (uint32_t i = 0; i < ci->n; i++) {
    const cmi_item *it = &ci->items[i];
    if (it->sort == CMC_SORT_FUNC && it->u.func) {
      add_name(t, it->u.func, prefix, ".", ci->names[i]);
      add_name(t, it->u.func->inst, *prefix ? prefix : "root", "", "");
    } else if (it->sort == CMC_SORT_INSTANCE) {
      size_t n = strlen(prefix) + strlen(ci->names[i]) + 2;
      char *sub = malloc(n);
      if (!sub) return;
      snprintf(sub, n, "%s%s%s", prefix, *prefix ? "/" : "", ci->names[i]);
      name_instance(t, it->u.inst, sub, depth + 1);
      free(sub);
    }
  }
}

void cli_trace_name_instance(cli_trace *t, const cmi_inst *ci, const char *prefix) {
  name_instance(t, ci, prefix, 0);
}

void cli_trace_name_registered(cli_trace *t, cmi_engine *e) {
  const char *name;
  const cmi_item *it;
  for (uint32_t i = 0; (it = cmi_registered(e, i, &name)) != NULL; i++) {
    if (it->sort == CMC_SORT_FUNC) add_name(t, it->u.func, name, "", "");
    else if (it->sort == CMC_SORT_INSTANCE) name_instance(t, it->u.inst, name, 0);
  }
}

static void print_vals(FILE *out, const cma_functype *ft, const cma_vals *vs, bool results) {
  for (uint32_t i = 0; i < vs->n; i++) {
    cmc_tid ty = results ? ft->result : ft->params[i].type;
    json_t *j = cma_val_to_json(ft->types, ty, &vs->v[i]);
    if (i) fputs(", ", out);
    if (j) wave_print(out, ft->types, ty, j);
    json_decref(j);
  }
}

void cli_trace_crossing(cli_trace *t, const cmref_crossing *c, bool denied) {
  if (t->max_lines && t->lines >= t->max_lines) {
    t->omitted++;
    return;
  }
  t->lines++;
  FILE *out = t->out;
  const char *fn = cli_trace_name_of(t, c->func, "<function>");
  const char *host = c->callee ? "" : "[host] "; /* host functions belong to no instance */
  fprintf(out, "%*s", 2 * (int)c->depth, "");
  if (c->event == CMREF_CROSS_CALL) {
    const char *caller = c->caller ? cli_trace_name_of(t, c->caller, "<instance>") : "host";
    fprintf(out, "call %s -> %s%s(", caller, host, fn);
    print_vals(out, c->functype, c->values, false);
    fprintf(out, ")%s\n", denied ? " denied" : "");
  } else if (c->event == CMREF_CROSS_RETURN) {
    const cma_vals *vs = c->values;
    fprintf(out, "return %s%s%s", host, fn, vs->n ? " = " : "");
    print_vals(out, c->functype, vs, true);
    fputc('\n', out);
  } else {
    fprintf(out, "trap %s%s: %s\n", host, fn, c->trap);
  }
}

void cli_trace_finish(cli_trace *t) {
  if (t->omitted) fprintf(t->out, "... %u more crossings\n", t->omitted);
  t->omitted = 0;
}

void cli_trace_free(cli_trace *t) {
  for (size_t i = 0; i < t->nnames; i++) free(t->names[i].name);
  free(t->names);
  t->names = NULL;
  t->nnames = t->capnames = 0;
}
