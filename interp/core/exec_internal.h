/* cmref core: internals shared by the store, the pre-decoder (compile.c) and the dispatch
 * loop (exec.c). Not part of any API. */
#ifndef CM_CORE_EXEC_INTERNAL_H
#define CM_CORE_EXEC_INTERNAL_H

#include "core/runtime.h"

#define CM_STACK_SLOTS (1u << 21) /* value stack: 2 Mi slots (32 MiB, touched lazily) */
#define CM_MAX_FRAMES 60000u      /* call depth limit: deeper is "call stack exhausted" */
#define CM_MAX_NESTING 200u       /* invocations inside host calls (each costs C stack) */
#define CM_MAX_TABLE_SIZE 10000000u

/* A pre-decoded instruction. op is the Wasm opcode for one-byte opcodes, CM_XOP_FC + sub
 * for 0xFC-prefixed, CM_XOP_FD + sub for SIMD, or an internal op (CM_XOP_*). */
typedef struct cm_insn {
  uint16_t op;
  uint16_t x;
  uint32_t a;
  uint64_t b;
} cm_insn;

enum {
  CM_XOP_FC = 0x100,  /* + sub (0..17) */
  CM_XOP_FD = 0x200,  /* + sub (0..255) */
  CM_XOP_JMP = 0x300, /* ip = a */
  CM_XOP_JMP_IF,      /* pop i32; if nonzero ip = a */
  CM_XOP_JMP_UNLESS,  /* pop i32; if zero ip = a */
  CM_XOP_BR,          /* keep b&0xffffffff values, drop b>>32 below them, ip = a */
  CM_XOP_BR_IF,       /* pop i32; if nonzero: as BR */
  CM_XOP_BR_TABLE,    /* pop i32 i; execute entry ip[1 + min(i, a)] */
  CM_XOP_RETURN,      /* a = number of results */
  CM_XOP_CALL,        /* a = function index */
  CM_XOP_CALL_INDIRECT, /* a = type index, b = table index */
  CM_XOP_SELECT,
  CM_XOP_THROW,       /* a = tag index */
  CM_XOP_THROW_REF,
  CM_XOP_FUEL,        /* metered code: a straight-line segment of a instructions starts */
  CM_XOP_REF_I31,     /* GC: i32 -> i31 reference (see CM_I31_REF) */
  CM_XOP_I31_GET_S,
  CM_XOP_I31_GET_U,
  CM_XOP_COUNT
};

/* An i31 reference is a tagged cm_ref: the 31 bits shifted left, bit 0 set (function and
 * exception instances are aligned, so bit 0 tells them apart; never NULL). */
#define CM_I31_REF(x) ((cm_ref)(uintptr_t)((((uintptr_t)(x) & 0x7FFFFFFFu) << 1) | 1u))
#define CM_I31_BITS(r) ((uint32_t)((uintptr_t)(r) >> 1) & 0x7FFFFFFFu)

/* A try_table's region and its catch clauses (landing pads are BR instructions). */
typedef struct cm_handler {
  uint32_t start, end; /* instruction index range covered */
  uint32_t height;     /* slot offset from fp where caught values go */
  uint32_t first_pad, npads;
} cm_handler;

typedef struct cm_pad {
  uint8_t kind; /* CM_CATCH ... (instr.h) */
  uint32_t tag;
  uint32_t ip;
} cm_pad;

struct cm_code {
  cm_insn *insns;
  uint32_t ninsns;
  uint32_t nparams, nresults;
  uint32_t nlocals;    /* declared locals (zeroed at entry) */
  uint32_t frame_size; /* slots the frame may use above fp */
  cm_handler *handlers;
  uint32_t nhandlers;
  cm_pad *pads;
  uint32_t npads;
  uint8_t (*v128)[16]; /* 16-byte immediates (v128.const, i8x16.shuffle), by insn.a */
  uint32_t nv128;
  bool metered; /* has FUEL instructions (compiled for a store with a fuel limit) */
};

/* Compiles function `funcidx` (a defined function index) of a validated module; metered:
 * with FUEL instructions. */
cm_code *cm_compile(const cm_module *m, uint32_t funcidx, bool metered, cm_error *err);
void cm_code_free(cm_code *c);

typedef struct cm_frame {
  const cm_insn *ret_ip; /* where the caller resumes */
  cm_value *fp;          /* caller's frame pointer */
  cm_funcinst *fn;       /* caller */
  const cm_code *code;   /* the caller's code (fn->code may be recompiled meanwhile) */
} cm_frame;

struct cm_store {
  void **owned;
  size_t nowned, capowned;
  cm_functype *types; /* interned function types */
  size_t ntypes, captypes;
  uint32_t *type_slots; /* open-addressing hash of types: id + 1, 0 = empty */
  size_t nslots;        /* a power of two, > 2 * ntypes */
  cm_meminst **mems;
  size_t nmems, capmems;
  cm_tableinst **tables;
  size_t ntables, captables;
  cm_code **codes;
  size_t ncodes, capcodes;
  /* execution state */
  cm_value *stack;
  size_t stack_slots;
  cm_value *sp; /* first free slot (between invocations / at host calls) */
  cm_frame *frames;
  uint32_t nframes;
  uint32_t nesting; /* cm_core_invoke calls under way (host functions re-enter) */
  uint64_t fuel;    /* instructions left (metered code); UINT64_MAX: unlimited */
  bool metered;     /* fuel is limited: functions run metered code (recompiled on a change) */
  uint64_t max_memory; /* bytes one memory may grow to; UINT64_MAX: unlimited */
  cm_exninst *last_exn;
};

bool cm_store_add_code(cm_store *s, cm_code *c);

#endif
