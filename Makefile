# cmref: build and the README's commands. `make report` and `make test` are the two that matter.
#
#   make setup     install Debian packages, pinned node tools, .venv (idempotent)
#   make build     the C interpreter: build/libcmref.a, build/cmref, C unit tests
#   make test      setup + build, then every test (unit tests and the pinned suites on ref)
#   make sanitize  the same C build with ASan + UBSan, in build-sanitize/
#   make report    setup + build, run the pinned suites, write the compliance report

CC      ?= cc
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror
OPT     ?= -O2 -g
BUILD   ?= build
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
CFLAGS_ALL := $(CSTD) $(WARN) $(OPT) -Iinterp/include -Iinterp $(EXTRA_CFLAGS)
LDLIBS  := -ljansson -lm
PY      := .venv/bin/python

# Every .c under these folders is part of the library: adding a file needs no Makefile edit.
LIB_SRC := $(sort $(wildcard interp/core/*.c interp/component/*.c interp/wit/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC := $(sort $(wildcard interp/cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard interp/tests/test_*.c))
TEST_BIN := $(TEST_SRC:interp/tests/%.c=$(BUILD)/tests/%)

.PHONY: all setup build test test-unit test-suites sanitize report clean fuzz fuzz-smoke
all: build

setup:
	@tools/setup.sh

build: $(BUILD)/libcmref.a $(if $(CLI_SRC),$(BUILD)/cmref) $(TEST_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libcmref.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/cmref: $(CLI_OBJ) $(BUILD)/libcmref.a
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcmref.a $(LDLIBS)

$(BUILD)/tests/%: interp/tests/%.c $(BUILD)/libcmref.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_LDFLAGS) -o $@ $< $(BUILD)/libcmref.a $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

test: setup build
	$(PY) -m pytest -n auto -q

sanitize: setup
	$(MAKE) build BUILD=build-sanitize CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined"

# libFuzzer targets (tools/fuzz/fuzz.py): build them and their seeds; a short run of each
fuzz: setup
	$(PY) tools/fuzz/fuzz.py build && $(PY) tools/fuzz/fuzz.py seeds

fuzz-smoke: setup
	$(PY) tools/fuzz/fuzz.py smoke 5 && $(PY) tools/fuzz/diff_exec.py --modules 150 --seed 7

report: setup build
	$(PY) -m harness report

clean:
	rm -rf $(BUILD) build-sanitize
