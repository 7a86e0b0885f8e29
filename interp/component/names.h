/* Import and export names (Explainer.md "Import and Export Definitions"). */
#ifndef CMC_NAMES_H
#define CMC_NAMES_H

#include "component/component.h"

typedef enum cmc_name_kind {
  CMC_NAME_LABEL, CMC_NAME_CONSTRUCTOR, CMC_NAME_METHOD, CMC_NAME_STATIC, CMC_NAME_INTERFACE,
  CMC_NAME_DEPENDENCY, CMC_NAME_URL, CMC_NAME_HASH
} cmc_name_kind;

typedef struct cmc_name {
  cmc_name_kind kind;
  const char *raw;
  char resource[128]; /* [constructor]/[method]/[static]: the resource label */
  char method[128];   /* [method]/[static]: the function label */
} cmc_name;

bool cmc_is_kebab(const char *s, size_t n);
/* parse an extern name; on failure writes a reason into why */
bool cmc_parse_name(const char *s, cmc_name *out, char *why, size_t whylen);
/* the same, with 🪺 nested namespaces/projections allowed when `nested` */
bool cmc_parse_name_ex(const char *s, bool nested, cmc_name *out, char *why, size_t whylen);
/* the version of an interface name, with its versionsuffix attribute (or NULL) */
bool cmc_interface_version(const cmc_name *n, const char *suffix, char *why, size_t whylen);
/* strongly-unique comparison: true when the two names conflict */
bool cmc_names_conflict(const cmc_name *a, const cmc_name *b);
/* case-insensitive equality of kebab labels */
bool cmc_label_eq(const char *a, const char *b);
/* the key under which strongly-unique names are compared (arena-allocated) */
char *cmc_name_key(const cmc_name *n, cmc_arena *a);

#endif
