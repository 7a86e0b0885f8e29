/* cmref core: validation (spec 3 "Validation", the appendix's algorithm). Owned by corevalid. */
#ifndef CM_CORE_VALIDATE_H
#define CM_CORE_VALIDATE_H

#include "module.h"

/* Validates a decoded module. On failure returns false with err->kind = CMREF_INVALID (or
 * CMREF_MALFORMED for the few binary rules only checkable while reading instructions). */
bool cm_core_validate(const cm_module *m, cm_error *err);

#endif
