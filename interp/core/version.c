/* Version and error-kind names of the public API. */
#include "cmref.h"

const char *cmref_version(void) { return CMREF_VERSION; }

const char *cmref_errkind_name(cmref_errkind kind) {
  switch (kind) {
  case CMREF_OK: return "ok";
  case CMREF_MALFORMED: return "malformed";
  case CMREF_INVALID: return "invalid";
  case CMREF_UNLINKABLE: return "unlinkable";
  case CMREF_UNINSTANTIABLE: return "uninstantiable";
  case CMREF_TRAP: return "trap";
  case CMREF_EXHAUSTION: return "exhaustion";
  case CMREF_INTERNAL: return "internal";
  }
  return "unknown";
}
