/* cmref: the command-line interface.
 *   cmref version
 *   cmref validate FILE.wasm
 *   cmref run FILE.wasm --invoke 'name(args)' [--with NAME=F.wasm] [--trace] [--deny FUNC]
 *             [--fuel N] [--max-memory BYTES]
 *   cmref info COMPONENT.wasm  (imports and exports with their types: interp/cli/info.c)
 *   cmref worker           (the harness's JSON-lines protocol on stdin/stdout)
 *   cmref wit [--json] PATH  (WIT packages: interp/cli/wit_cmd.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/wit_cmd.h"
#include "cmref.h"

static int usage(void) {
  fprintf(stderr,
          "usage: cmref version\n"
          "       cmref validate FILE.wasm\n"
          "       cmref run FILE.wasm --invoke 'name(args)' [--with NAME=OTHER.wasm]... [--trace]\n"
          "                 [--deny FUNC] [--fuel N] [--max-memory BYTES]\n"
          "       cmref info COMPONENT.wasm\n"
          "       cmref worker\n"
          "       cmref wit [--json] [--features F,G] [--all-features] PATH\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *cmd = argv[1];
  if (strcmp(cmd, "version") == 0) {
    printf("cmref %s\n", cmref_version());
    return 0;
  }
  if (strcmp(cmd, "validate") == 0 && argc == 3) return cli_validate(argv[2]);
  if (strcmp(cmd, "run") == 0 && argc >= 3) return cli_run(argc - 2, argv + 2);
  if (strcmp(cmd, "info") == 0 && argc == 3) return cli_info(argv[2]);
  if (strcmp(cmd, "worker") == 0) return cli_worker();
  if (strcmp(cmd, "wit") == 0) return cli_wit(argc - 1, argv + 1);
  return usage();
}
