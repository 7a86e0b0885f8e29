/* cmref: public C API of the reference interpreter.
 *
 * The whole contract between an embedder (the CLI, the harness worker) and the engine.
 * No global mutable state: every call takes the engine it acts on. Every failure is a
 * returned error with a kind and a message; no input makes the library abort or exit.
 */
#ifndef CMREF_H
#define CMREF_H

#ifdef __cplusplus
extern "C" {
#endif

#define CMREF_VERSION "0.1.0"

/* Error kinds, by phase (the spec interpreter's Decode/Invalid/Link/Trap/Exhaustion). */
typedef enum cmref_errkind {
  CMREF_OK = 0,
  CMREF_MALFORMED,      /* decoding failed */
  CMREF_INVALID,        /* validation failed */
  CMREF_UNLINKABLE,     /* imports do not match */
  CMREF_UNINSTANTIABLE, /* instantiation failed (segments, start) */
  CMREF_TRAP,           /* execution trapped */
  CMREF_EXHAUSTION,     /* call stack or fuel exhausted */
  CMREF_INTERNAL        /* a bug in cmref or a misuse of the API */
} cmref_errkind;

const char *cmref_version(void);
const char *cmref_errkind_name(cmref_errkind kind);

#ifdef __cplusplus
}
#endif
#endif
