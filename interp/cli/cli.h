/* cmref CLI subcommands. */
#ifndef CMREF_CLI_H
#define CMREF_CLI_H

#include <stddef.h>

int cli_validate(const char *path);
int cli_run(int argc, char **argv);
int cli_worker(void);

/* Reads a whole file (malloc'ed); NULL on failure. */
unsigned char *cli_read_file(const char *path, size_t *len);

#endif
