/* The text of a boundary-crossing trace (`cmref run --trace`, the worker's traced requests):
 * one line per crossing of a component boundary, indented by its nesting, with WAVE values:
 *
 *   call host -> run("hi")             the embedder calls export run of the root instance
 *     call root -> lib.echo("hi")      root calls function echo of the instance named lib
 *     return lib.echo = "hi"
 *     call root -> [host] host-echo-u32(7)   a host function (registered by the engine)
 *     trap lib.add: call denied by policy: ...
 *
 * Functions and instances are named by where they were exported or registered. */
#ifndef CMREF_CLI_TRACE_H
#define CMREF_CLI_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "cmref.h"
#include "component/instantiate.h"

typedef struct cli_trace_name {
  const void *p;
  char *name;
} cli_trace_name;

typedef struct cli_trace {
  FILE *out;
  unsigned max_lines; /* 0: unlimited; beyond it crossings are only counted */
  unsigned lines, omitted;
  cli_trace_name *names;
  size_t nnames, capnames;
} cli_trace;

/* Names the functions an instance exports (prefix.name; nested instances prefix/name) and the
 * instances they belong to (prefix, or "root" for the empty prefix). First names stay. */
void cli_trace_name_instance(cli_trace *t, const cmi_inst *ci, const char *prefix);
/* Names everything registered in the engine (host functions, registered instances). */
void cli_trace_name_registered(cli_trace *t, cmi_engine *e);
const char *cli_trace_name_of(const cli_trace *t, const void *p, const char *dflt);
/* Writes the crossing's line (denied: a CALL the policy refuses). */
void cli_trace_crossing(cli_trace *t, const cmref_crossing *c, bool denied);
/* Writes "... N more crossings" if any were left out. */
void cli_trace_finish(cli_trace *t);
void cli_trace_free(cli_trace *t);

#endif
