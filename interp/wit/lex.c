/* WIT tokenizer (wit-parser's ast/lex.rs): tokens with global byte spans. */
#include <stdio.h>
#include <string.h>

#include "wit/ast.h"

/* Decodes the code point at p (input already validated as UTF-8). */
static uint32_t utf8_at(const char *s, size_t len, size_t p, size_t *n) {
  const unsigned char *u = (const unsigned char *)s + p;
  if (u[0] < 0x80 || p + 1 >= len + 1) { *n = 1; return u[0]; }
  if ((u[0] & 0xe0) == 0xc0) { *n = 2; return ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f); }
  if ((u[0] & 0xf0) == 0xe0) {
    *n = 3;
    return ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
  }
  *n = 4;
  return ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) |
         ((uint32_t)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
}

/* The next character with CRLF folded to '\n' (CrlfFold); -1 at end. */
static int32_t peekc(const wit_lexer *lx, size_t *n) {
  if (lx->pos >= lx->len) { *n = 0; return -1; }
  uint32_t c = utf8_at(lx->input, lx->len, lx->pos, n);
  if (c == '\r' && lx->pos + 1 < lx->len && lx->input[lx->pos + 1] == '\n') {
    *n = 2;
    return '\n';
  }
  return (int32_t)c;
}

static int32_t getc_(wit_lexer *lx) {
  size_t n;
  int32_t c = peekc(lx, &n);
  lx->pos += n;
  return c;
}

static int eatc(wit_lexer *lx, int32_t want) {
  size_t n;
  if (peekc(lx, &n) != want) return 0;
  lx->pos += n;
  return 1;
}

static uint32_t here(const wit_lexer *lx) { return lx->offset + (uint32_t)lx->pos; }

static char *char_debug(wit_arena *m, uint32_t c) {
  /* Rust's {:?} of a char */
  switch (c) {
  case '\n': return "'\\n'";
  case '\r': return "'\\r'";
  case '\t': return "'\\t'";
  case '\'': return "'\\''";
  case '\\': return "'\\\\'";
  case 0: return "'\\0'";
  }
  if (c < 0x20 || c == 0x7f) return wit_fmt(m, "'\\u{%x}'", c);
  char buf[8];
  int n = 0;
  if (c < 0x80) buf[n++] = (char)c;
  else if (c < 0x800) { buf[n++] = (char)(0xc0 | (c >> 6)); buf[n++] = (char)(0x80 | (c & 0x3f)); }
  else if (c < 0x10000) {
    buf[n++] = (char)(0xe0 | (c >> 12)); buf[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
    buf[n++] = (char)(0x80 | (c & 0x3f));
  } else {
    buf[n++] = (char)(0xf0 | (c >> 18)); buf[n++] = (char)(0x80 | ((c >> 12) & 0x3f));
    buf[n++] = (char)(0x80 | ((c >> 6) & 0x3f)); buf[n++] = (char)(0x80 | (c & 0x3f));
  }
  buf[n] = 0;
  return wit_fmt(m, "'%s'", buf);
}

static int lex_err(wit_lexer *lx, uint32_t at, const char *msg) {
  return wit_error_at(lx->err, lx->mem, (wit_span){at, at + 1}, "%s", msg);
}

/* XID approximations: ASCII exactly; any non-ASCII code point is lexed as part of a
 * word and then rejected by wit_validate_id with "invalid character in identifier". */
static int keylike_start(int32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
         c >= 0x80;
}
static int keylike_continue(int32_t c) { return keylike_start(c) || (c >= '0' && c <= '9'); }

static int detect_invalid_input(wit_lexer *lx) {
  for (size_t p = 0; p < lx->len;) {
    size_t n;
    uint32_t c = utf8_at(lx->input, lx->len, p, &n);
    uint32_t at = lx->offset + (uint32_t)p;
    if (c == '\n' || c == '\r' || c == '\t') {
    } else if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      return wit_error_at(lx->err, lx->mem, (wit_span){at, at + 1},
                          "Input contains bidirectional override codepoint \"\\\\u{%x}\"", c);
    } else if (c == 0x149 || c == 0x673 || c == 0xf77 || c == 0xf79 || c == 0x17a3 ||
               c == 0x17a4 || c == 0x17b4 || c == 0x17b5) {
      return wit_error_at(lx->err, lx->mem, (wit_span){at, at + 1},
                          "Codepoint \"\\\\u{%x}\" is discouraged by Unicode", c);
    } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return wit_error_at(lx->err, lx->mem, (wit_span){at, at + 1}, "Control code '\\u{%x}'", c);
    }
    p += n;
  }
  return 0;
}

int wit_lex_init(wit_lexer *lx, const char *input, size_t len, uint32_t offset,
                 wit_arena *mem, wit_error *err) {
  *lx = (wit_lexer){input, len, 0, offset, mem, err};
  if (detect_invalid_input(lx)) return -1;
  eatc(lx, 0xfeff);
  return 0;
}

static const struct { const char *word; int tok; } keywords[] = {
  {"use", T_USE}, {"type", T_TYPE}, {"func", T_FUNC}, {"u8", T_U8}, {"u16", T_U16},
  {"u32", T_U32}, {"u64", T_U64}, {"s8", T_S8}, {"s16", T_S16}, {"s32", T_S32},
  {"s64", T_S64}, {"f32", T_F32}, {"f64", T_F64}, {"char", T_CHAR},
  {"resource", T_RESOURCE}, {"own", T_OWN}, {"borrow", T_BORROW}, {"record", T_RECORD},
  {"flags", T_FLAGS}, {"variant", T_VARIANT}, {"enum", T_ENUM}, {"bool", T_BOOL},
  {"string", T_STRING_}, {"option", T_OPTION}, {"result", T_RESULT},
  {"future", T_FUTURE}, {"stream", T_STREAM}, {"error-context", T_ERROR_CONTEXT},
  {"list", T_LIST}, {"map", T_MAP}, {"_", T_UNDERSCORE}, {"as", T_AS}, {"from", T_FROM},
  {"static", T_STATIC}, {"interface", T_INTERFACE}, {"tuple", T_TUPLE},
  {"world", T_WORLD}, {"import", T_IMPORT}, {"export", T_EXPORT},
  {"package", T_PACKAGE}, {"constructor", T_CONSTRUCTOR}, {"include", T_INCLUDE},
  {"with", T_WITH}, {"async", T_ASYNC},
};

static int keyword(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, s, n) == 0)
      return keywords[i].tok;
  return T_ID;
}

static int hexval(int32_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int expect_any(wit_lexer *lx, uint32_t *pos, int32_t *c) {
  *pos = here(lx);
  *c = getc_(lx);
  if (*c < 0) return lex_err(lx, lx->offset + (uint32_t)lx->len, "unexpected end of file");
  return 0;
}

static void put_utf8(char *buf, size_t *n, uint32_t c) {
  if (c < 0x80) buf[(*n)++] = (char)c;
  else if (c < 0x800) { buf[(*n)++] = (char)(0xc0 | (c >> 6)); buf[(*n)++] = (char)(0x80 | (c & 0x3f)); }
  else if (c < 0x10000) {
    buf[(*n)++] = (char)(0xe0 | (c >> 12)); buf[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
    buf[(*n)++] = (char)(0x80 | (c & 0x3f));
  } else {
    buf[(*n)++] = (char)(0xf0 | (c >> 18)); buf[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3f));
    buf[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f)); buf[(*n)++] = (char)(0x80 | (c & 0x3f));
  }
}

static int string_escape_u(wit_lexer *lx, uint32_t pos, char *buf, size_t *n) {
  uint32_t p;
  int32_t c;
  if (expect_any(lx, &p, &c)) return -1;
  if (c != '{') return wit_error_at(lx->err, lx->mem, (wit_span){p, p + 1}, "expected character '{'");
  if (expect_any(lx, &p, &c)) return -1;
  if (hexval(c) < 0)
    return wit_error_at(lx->err, lx->mem, (wit_span){p, p + 1}, "invalid hex digit %s", char_debug(lx->mem, (uint32_t)c));
  uint64_t v = (uint64_t)hexval(c);
  for (;;) {
    size_t k;
    int32_t d = peekc(lx, &k);
    if (d == '_') { lx->pos += k; continue; }
    if (hexval(d) < 0) break;
    lx->pos += k;
    v = v * 16 + (uint64_t)hexval(d);
    if (v > 0xffffffffu) return lex_err(lx, here(lx), "number is too big to fit in a u32");
  }
  if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    return wit_error_at(lx->err, lx->mem, (wit_span){pos, pos + 1}, "invalid unicode value 0x%x", (unsigned)v);
  put_utf8(buf, n, (uint32_t)v);
  if (expect_any(lx, &p, &c)) return -1;
  if (c != '}') return wit_error_at(lx->err, lx->mem, (wit_span){p, p + 1}, "expected character '}'");
  return 0;
}

/* Reads a string literal body after its opening quote; *out (if given) gets the value. */
static int expect_string_literal(wit_lexer *lx, char **out) {
  char *buf = wit_alloc(lx->mem, lx->len - lx->pos + 1);
  size_t n = 0;
  for (;;) {
    uint32_t pos;
    int32_t c;
    if (expect_any(lx, &pos, &c)) return -1;
    if (c == '"') break;
    if (c == '\\') {
      if (expect_any(lx, &pos, &c)) return -1;
      switch (c) {
      case '"': buf[n++] = '"'; break;
      case '\'': buf[n++] = '\''; break;
      case 't': buf[n++] = '\t'; break;
      case 'n': buf[n++] = '\n'; break;
      case 'r': buf[n++] = '\r'; break;
      case '\\': buf[n++] = '\\'; break;
      case 'u': if (string_escape_u(lx, pos, buf, &n)) return -1; break;
      default:
        if (hexval(c) >= 0) {
          uint32_t p2;
          int32_t c2;
          if (expect_any(lx, &p2, &c2)) return -1;
          if (hexval(c2) < 0)
            return wit_error_at(lx->err, lx->mem, (wit_span){p2, p2 + 1}, "invalid hex digit %s", char_debug(lx->mem, (uint32_t)c2));
          buf[n++] = (char)(hexval(c) * 16 + hexval(c2));
        } else {
          return wit_error_at(lx->err, lx->mem, (wit_span){pos, pos + 1}, "invalid string escape %s",
                              char_debug(lx->mem, (uint32_t)c));
        }
      }
    } else if (c < 0x20 || c == 0x7f) {
      return wit_error_at(lx->err, lx->mem, (wit_span){pos, pos + 1}, "invalid string character %s",
                          char_debug(lx->mem, (uint32_t)c));
    } else {
      put_utf8(buf, &n, (uint32_t)c);
    }
  }
  buf[n] = 0;
  if (out) *out = buf;
  return 0;
}

int wit_lex_string(wit_lexer *lx, wit_span span, char **out) {
  wit_lexer sub = *lx;
  sub.pos = span.start - lx->offset + 1;
  return expect_string_literal(&sub, out);
}

static void eat_word(wit_lexer *lx) {
  size_t n;
  int32_t c;
  while ((c = peekc(lx, &n)) >= 0 && keylike_continue(c)) lx->pos += n;
}

int wit_lex_next_raw(wit_lexer *lx, wit_token *t) {
  size_t start_pos = lx->pos;
  uint32_t start = here(lx);
  int32_t c = getc_(lx);
  int tok;
  if (c < 0) {
    *t = (wit_token){T_EOF, {start, start}};
    return 0;
  }
  switch (c) {
  case '\n': case '\t': case ' ':
    while (eatc(lx, ' ') || eatc(lx, '\t') || eatc(lx, '\n')) {}
    tok = T_WHITESPACE;
    break;
  case '/':
    if (eatc(lx, '/')) {
      int32_t d;
      while ((d = getc_(lx)) >= 0 && d != '\n') {}
      tok = T_COMMENT;
    } else if (eatc(lx, '*')) {
      int depth = 1;
      while (depth > 0) {
        int32_t d = getc_(lx);
        if (d < 0) return lex_err(lx, start, "unterminated block comment");
        if (d == '/' && eatc(lx, '*')) depth++;
        else if (d == '*' && eatc(lx, '/')) depth--;
      }
      tok = T_COMMENT;
    } else {
      tok = T_SLASH;
    }
    break;
  case '=': tok = T_EQUALS; break;
  case ',': tok = T_COMMA; break;
  case ':': tok = T_COLON; break;
  case '.': tok = T_PERIOD; break;
  case ';': tok = T_SEMICOLON; break;
  case '(': tok = T_LPAREN; break;
  case ')': tok = T_RPAREN; break;
  case '{': tok = T_LBRACE; break;
  case '}': tok = T_RBRACE; break;
  case '<': tok = T_LT; break;
  case '>': tok = T_GT; break;
  case '*': tok = T_STAR; break;
  case '@': tok = T_AT; break;
  case '-': tok = eatc(lx, '>') ? T_RARROW : T_MINUS; break;
  case '+': tok = T_PLUS; break;
  case '%': {
    size_t n;
    int32_t d = peekc(lx, &n);
    if (d >= 0 && keylike_start(d)) eat_word(lx);
    tok = T_EXPLICIT_ID;
    break;
  }
  case '"':
    if (expect_string_literal(lx, NULL)) return -1;
    tok = T_STRING;
    break;
  default:
    if (keylike_start(c)) {
      eat_word(lx);
      tok = keyword(lx->input + start_pos, lx->pos - start_pos);
    } else if (c >= '0' && c <= '9') {
      size_t n;
      int32_t d;
      while ((d = peekc(lx, &n)) >= '0' && d <= '9') lx->pos += n;
      tok = T_INTEGER;
    } else {
      return wit_error_at(lx->err, lx->mem, (wit_span){start, start + 1}, "unexpected character %s",
                          char_debug(lx->mem, (uint32_t)c));
    }
  }
  *t = (wit_token){tok, {start, here(lx)}};
  return 0;
}

int wit_lex_next(wit_lexer *lx, wit_token *t) {
  for (;;) {
    if (wit_lex_next_raw(lx, t)) return -1;
    if (t->kind != T_WHITESPACE && t->kind != T_COMMENT) return 0;
  }
}

static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int bad_char(wit_lexer *lx, uint32_t start, const char *p, const char *end) {
  size_t n;
  uint32_t c = utf8_at(p, (size_t)(end - p), 0, &n);
  return wit_error_at(lx->err, lx->mem, (wit_span){start, start + 1}, "invalid character in identifier %s",
                      char_debug(lx->mem, c));
}

int wit_validate_id(wit_lexer *lx, uint32_t start, const char *id, size_t n) {
  const char *end = id + n;
  if (n == 0) return lex_err(lx, start, "identifiers must have characters between '-'s");
  int idx = 0;
  for (const char *p = id;; idx++) {
    const char *q = p;
    while (q < end && *q != '-') q++;
    if (q == p) return lex_err(lx, start, "identifiers must have characters between '-'s");
    unsigned char first = (unsigned char)*p;
    if (idx == 0 && !is_lower(first) && !is_upper(first)) return bad_char(lx, start, p, end);
    int upper = -1;
    for (const char *c = p; c < q; c++) {
      if (is_digit(*c)) continue;
      if (is_upper(*c)) {
        if (upper == 0) return bad_char(lx, start, c, end);
        upper = 1;
      } else if (is_lower(*c)) {
        if (upper == 1) return bad_char(lx, start, c, end);
        upper = 0;
      } else {
        return bad_char(lx, start, c, end);
      }
    }
    if (q == end) break;
    p = q + 1;
    if (p == end) return lex_err(lx, start, "identifiers must have characters between '-'s");
  }
  return 0;
}

const char *wit_tok_describe(int k) {
  switch (k) {
  case T_WHITESPACE: return "whitespace";
  case T_COMMENT: return "a comment";
  case T_EQUALS: return "'='";
  case T_COMMA: return "','";
  case T_COLON: return "':'";
  case T_PERIOD: return "'.'";
  case T_SEMICOLON: return "';'";
  case T_LPAREN: return "'('";
  case T_RPAREN: return "')'";
  case T_LBRACE: return "'{'";
  case T_RBRACE: return "'}'";
  case T_LT: return "'<'";
  case T_GT: return "'>'";
  case T_ID: return "an identifier";
  case T_EXPLICIT_ID: return "an '%' identifier";
  case T_RARROW: return "`->`";
  case T_STAR: return "`*`";
  case T_AT: return "`@`";
  case T_SLASH: return "`/`";
  case T_PLUS: return "`+`";
  case T_MINUS: return "`-`";
  case T_INTEGER: return "an integer";
  case T_STRING: return "a string literal";
  case T_EOF: return "eof";
  }
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (keywords[i].tok == k) {
      static const char *const descs[] = {
        "keyword `use`", "keyword `type`", "keyword `func`", "keyword `u8`", "keyword `u16`",
        "keyword `u32`", "keyword `u64`", "keyword `s8`", "keyword `s16`", "keyword `s32`",
        "keyword `s64`", "keyword `f32`", "keyword `f64`", "keyword `char`",
        "keyword `resource`", "keyword `own`", "keyword `borrow`", "keyword `record`",
        "keyword `flags`", "keyword `variant`", "keyword `enum`", "keyword `bool`",
        "keyword `string`", "keyword `option`", "keyword `result`", "keyword `future`",
        "keyword `stream`", "keyword `error-context`", "keyword `list`", "keyword `map`",
        "keyword `_`", "keyword `as`", "keyword `from`", "keyword `static`",
        "keyword `interface`", "keyword `tuple`", "keyword `world`", "keyword `import`",
        "keyword `export`", "keyword `package`", "keyword `constructor`",
        "keyword `include`", "keyword `with`", "keyword `async`",
      };
      return descs[i];
    }
  return "?";
}
