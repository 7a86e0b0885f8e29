/* Merging packages into a Resolve (resolve.c) and reading them from disk (fs.c). */
#ifndef CMREF_WIT_RESOLVE_H
#define CMREF_WIT_RESOLVE_H

#include "wit/unresolved.h"

int wit_append(wit_resolve *r, wit_unresolved *u); /* package id, or -1 */
int wit_package_find(wit_resolve *r, const wit_pkgname *n);
int wit_type_interface_dep(wit_resolve *r, int type_id);
char *wit_id_of(wit_resolve *r, int iface);
/* the package-docs custom section (metadata.c) */
char *wit_metadata_encode(wit_resolve *r, int pkg, size_t *len);
int wit_metadata_inject(wit_resolve *r, int pkg, const unsigned char *data, size_t len);

#endif
