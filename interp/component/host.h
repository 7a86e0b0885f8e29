/* The host imports of wasmtime's component test runner (../shared/suites/wasmtime-misc/
 * HOST-spectest.rs, link_component_spectest): `host-return-two`, `host-echo-u32` and the
 * `host` instance (return-three, nested/return-four, simple-module, resource1 and its
 * functions, return-hi, the concurrent never-return / return-two-slowly / echo-slowly) and,
 * from its wast runner, `wasmtime.set-max-table-capacity`. */
#ifndef CMI_HOST_H
#define CMI_HOST_H

#include "component/instantiate.h"

/* Registers wasmtime's host items in e (after every cmi_reset). */
bool cmi_host_register(cmi_engine *e, cm_error *err);

#endif
