/* WAVE values (wave.c): parsing by a component function's parameter types, printing. */
#ifndef CMREF_CLI_WAVE_H
#define CMREF_CLI_WAVE_H

#include <stdio.h>

#include <jansson.h>

#include "component/abi.h"

/* `(a, b, ...)` at text + offset, the arguments of a call, read by ft's parameter types into a
 * JSON array of values; NULL with a message naming the column (in text) of the error in err. */
json_t *wave_parse_args(const char *text, size_t offset, const cma_functype *ft, char *err,
                        size_t n);

/* Prints JSON value j of type t as WAVE. */
void wave_print(FILE *o, cmc_types *types, cmc_tid t, json_t *j);

#endif
