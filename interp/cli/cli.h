/* cmref CLI subcommands. */
#ifndef CMREF_CLI_H
#define CMREF_CLI_H

#include <stddef.h>

int cli_validate(const char *path);
int cli_run(int argc, char **argv);
int cli_worker(void);

/* Reads a whole file (malloc'ed); NULL on failure. */
unsigned char *cli_read_file(const char *path, size_t *len);

/* run_component.c: `cmref run` of a component (WAVE arguments and results) */
int cli_run_component(const char *path, const unsigned char *bytes, size_t len, int argc,
                      char **argv);
/* info.c: `cmref info COMPONENT.wasm` */
int cli_info(const char *path);

#endif
