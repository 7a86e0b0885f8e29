/* libFuzzer target: WIT parse + resolve of one file's text (wit_push_source), then for a
 * resolved package its JSON, its WIT printing and its binary encoding, which must decode
 * back. Errors must render. Built by tools/fuzz/fuzz.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wit/wit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wit_resolve r;
  wit_resolve_init(&r);
  int pkg = wit_push_source(&r, "fuzz.wit", (const char *)data, size);
  if (pkg < 0) {
    free(wit_render_error(&r));
  } else {
    free(wit_resolve_json(&r));
    free(wit_print(&r, pkg, NULL, 0));
    unsigned char *bin = NULL;
    size_t len = 0;
    if (wit_encode_package(&r, pkg, &bin, &len) == 0) {
      wit_resolve back;
      wit_resolve_init(&back);
      (void)wit_decode_component(&back, bin, len);
      wit_resolve_free(&back);
    }
    free(bin);
  }
  wit_resolve_free(&r);
  return 0;
}
