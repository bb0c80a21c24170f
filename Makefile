# tattach: live function tracer for -pg / -fpatchable-function-entry programs.
#
#   make demo     install missing Debian packages, build, trace the demo target
#   make check    install missing packages, build, run the whole test suite
#   make bench    benchmarks (never part of check)
#   make stress   long robustness runs (never part of check)
#   make check-valgrind  integration tests with tattach/tread under Valgrind
#   make V=1      show the commands
#   make SANITIZE=1  build tattach/tread/tests with ASan+UBSan
#   make install  PREFIX=/usr/local DESTDIR=: programs, man pages, bash completion

CC      ?= cc
O       ?= build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
msg      = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2);)

# Debian packages the build and the tests need.  `make deps` installs the
# missing ones (apt-get update first, once per run).
DEB_PKGS := gcc g++ make pkg-config binutils clang lld libclang-rt-14-dev libelf-dev libdw-dev libunwind-dev \
	    libcapstone-dev libcriterion-dev uftrace babeltrace2
# test_html_browser: the --html page in a real (headless) browser
DEB_PKGS += chromium
# tests/integration/check_export.py parses the exports with Python's own
# json and xml.etree
DEB_PKGS += python3
# test_install: man renders the man pages, bash-completion loads the completion
DEB_PKGS += groff-base man-db bash-completion

PKGS     := libelf libdw capstone libunwind-ptrace
WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -I. -MMD -MP
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread

# ---------------------------------------------------------------- sources
# Every .c in these folders belongs to the host-side library, except the
# two programs' main.c files.
LIB_DIRS := attach attach/process attach/ring attach/hooks attach/frames attach/values patcher symbols \
	    consumer consumer/decode consumer/input consumer/views \
	    consumer/export ringfiles
LIB_DIRS += attach/follow
LIB_SRCS := $(filter-out %/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
LIB      := $(O)/libtattach.a

TATTACH  := $(O)/tattach
TREAD    := $(O)/tread

# ------------------------------------------------------------ trampoline
# Runs inside the target: freestanding, no libc, no SSE, no -pg, no
# sanitizers, position independent, and no relocations left after linking
# (checked).  The linked blob becomes a C array in a generated header.
TRAMP_CFLAGS := -std=gnu11 $(WARN) -Iinclude -MMD -MP -O2 -fPIC -fvisibility=hidden \
	-ffreestanding -fno-builtin -nostdlib -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-mgeneral-regs-only -mno-red-zone -fno-jump-tables -U_FORTIFY_SOURCE
TRAMP_SRCS := $(wildcard attach/tramp/*.c) attach/tramp/entry.S
TRAMP_OBJS := $(patsubst %,$(O)/%.o,$(basename $(TRAMP_SRCS)))
TRAMP_BLOB := $(O)/attach/tramp/tramp_blob.h
RESCUE_BLOB := $(O)/attach/tramp/rescue_blob.h

# ----------------------------------------------------------------- tests
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
INTEG_SRCS  := $(wildcard tests/integration/test_*.c)
STRESS_SRCS := $(wildcard tests/stress/test_*.c)
TEST_HELPER_SRCS := $(wildcard tests/lib/*.c)
TEST_BINS   := $(UNIT_SRCS:%.c=$(O)/%) $(INTEG_SRCS:%.c=$(O)/%)
TEST_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null)

.PHONY: all deps demo check check-valgrind unit integration bench stress clean help targets
all: $(TATTACH) $(TREAD)

help:
	@sed -n '3,10p' Makefile

# --------------------------------------------------------------- set-up
deps:
	$(Q)missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || \
		{ echo "make deps: apt-get install$$missing failed; install them by hand" >&2; exit 1; }; \
	fi

# -------------------------------------------------------------- programs
$(O)/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Every object whose source includes the generated blob waits for it (found
# by grep, so a new includer cannot be forgotten: a parallel build from
# scratch would otherwise compile it before the header exists).
BLOB_USERS := $(patsubst %.c,$(O)/%.o,$(shell grep -l 'tramp/tramp_blob.h' attach/*.c attach/*/*.c))
$(BLOB_USERS): $(TRAMP_BLOB)
$(O)/attach/process/remote.o: $(RESCUE_BLOB)
ALL_CFLAGS += -I$(O)
# tread copies and clears a decoded event (120 bytes) several times per
# event; gcc makes "rep stos"/"rep movs" of those, which start slowly on
# some CPUs (an Intel Xeon VM here: a quarter of tread --report's time).
# Plain moves up to 256 bytes, the library beyond (gcc's x86 options: left
# out for a compiler without them).
STRINGOPS := -mmemset-strategy=unrolled_loop:256:noalign,libcall:-1:noalign \
	     -mmemcpy-strategy=unrolled_loop:256:noalign,libcall:-1:noalign
ifeq ($(shell $(CC) $(STRINGOPS) -E -x c /dev/null >/dev/null 2>&1 && echo ok),ok)
$(O)/consumer/%.o: ALL_CFLAGS += $(STRINGOPS)
endif

$(TATTACH): $(O)/attach/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_ALL)

$(TREAD): $(O)/consumer/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_ALL)

$(O)/attach/tramp/%.o: attach/tramp/%.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TRAMP_CFLAGS) -c -o $@ $<

$(O)/attach/tramp/%.o: attach/tramp/%.S
	$(call msg,AS,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TRAMP_CFLAGS) -c -o $@ $<

$(O)/attach/tramp/tramp.elf: $(TRAMP_OBJS) attach/tramp/tramp.lds
	$(call msg,LD,$@)
	$(Q)ld -T attach/tramp/tramp.lds -o $@ $(TRAMP_OBJS)
	$(Q)if readelf -r $(TRAMP_OBJS) | grep -E 'R_X86_64_(64|32S|32 |GOTPCREL|GOT)' >/dev/null; then \
		echo "trampoline: absolute or GOT relocation found; it must be position independent" >&2; \
		readelf -r $(TRAMP_OBJS) >&2; exit 1; fi

$(TRAMP_BLOB): $(O)/attach/tramp/tramp.elf attach/tramp/mkblob.sh
	$(call msg,GEN,$@)
	$(Q)sh attach/tramp/mkblob.sh $< $@ tramp_code tp_fentry tp_mcount tp_return tp_config_area tp_hook_raise tp_hook_rethrow tp_hook_catch tp_hook_pexit tp_hook_bt tp_hook_vfork tp_fentry_args tp_hook_forced tp_mcount_args tp_ct_enter tp_ct_exit tp_ct_stubs tp_pg_enter tp_ns_enter

$(O)/attach/tramp/rescue.elf: $(O)/attach/tramp/rescue.o attach/tramp/rescue.lds
	$(call msg,LD,$@)
	$(Q)ld -T attach/tramp/rescue.lds -o $@ $<

$(RESCUE_BLOB): $(O)/attach/tramp/rescue.elf attach/tramp/mkblob.sh
	$(call msg,GEN,$@)
	$(Q)sh attach/tramp/mkblob.sh $< $@ rescue_code rescue_syscall rescue_restore rescue_ctx rescue_end

# The --html viewer page (HTML, CSS, JavaScript) as one C string.
VIEWER_PAGE := $(O)/consumer/export/viewer_page.h
$(O)/consumer/export/html.o: $(VIEWER_PAGE)
$(VIEWER_PAGE): $(wildcard consumer/export/viewer/*)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)sh consumer/export/viewer/mkpage.sh consumer/export/viewer $@

# ------------------------------------------------------------ test targets
include tests/targets/targets.mk
# libFuzzer targets (make fuzz) and their corpus replay (part of check)
-include tests/fuzz/fuzz.mk

# ------------------------------------------------------------------ tests
$(O)/tests/%: tests/%.c $(TEST_HELPER_SRCS) $(LIB)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(TEST_HELPER_SRCS) $(LIB) $(LDLIBS_ALL) $(TEST_LIBS)

unit: deps all $(UNIT_SRCS:%.c=$(O)/%) targets
	$(Q)set -e; for t in $(UNIT_SRCS:%.c=$(O)/%); do echo "== $$t"; $$t --jobs=2; done

integration: deps all $(INTEG_SRCS:%.c=$(O)/%) targets
	$(Q)set -e; for t in $(INTEG_SRCS:%.c=$(O)/%); do echo "== $$t"; TATTACH_BUILD=$(O) $$t --jobs=1; done

# The hazard suites once more with their targets built with patchable
# entries (call-through stubs, where -pg sites prime the return), and
# once more with TATTACH_CALL_THROUGH=0 (hijacked returns, as at -A/-R
# sites).
PFE_TESTS := test_hazards test_unhijack test_exceptions test_cancel test_coroutines test_children \
	test_running test_tracer_death test_blocking test_follow

check: deps
	$(Q)$(MAKE) --no-print-directory all targets $(TEST_BINS) $(FUZZ_CHECK_BINS)
	$(Q)sh tests/run-all.sh $(O) $(TEST_BINS) $(FUZZ_CHECK_BINS) \
		$(PFE_TESTS:%=pfe:$(O)/tests/integration/%) \
		$(PFE_TESTS:%=hijack:$(O)/tests/integration/%)

demo: deps
	$(Q)$(MAKE) --no-print-directory all targets
	$(Q)bash tests/demo.sh $(O)

# The integration tests with tattach and tread under Valgrind (memcheck):
# any error or leak makes a tool exit 99, which fails the test.
check-valgrind: deps
	$(Q)command -v valgrind >/dev/null || { echo "check-valgrind: install valgrind" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory all targets $(INTEG_SRCS:%.c=$(O)/%)
	$(Q)TATTACH_TOOL_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
		sh tests/run-all.sh $(O) $(VALGRIND_TESTS:%=$(O)/tests/integration/%)

VALGRIND_TESTS := test_calltree test_abi test_errors test_modules test_postmortem test_concurrency test_security
VALGRIND_TESTS += test_export_clients
VALGRIND_TESTS += test_launch

# Long robustness runs, not part of check: tracer killed at random moments
# (TATTACH_TRIALS, default 200; at -pg and at patchable-entry sites, at
# -pg sites with hijacked returns, and with every entry and import of a
# build without -pg patched), 1000 enable/disable cycles, and a soak of
# the hazards target under every tattach action (TATTACH_STRESS_SECONDS).
stress: deps
	$(Q)$(MAKE) --no-print-directory all targets $(STRESS_SRCS:%.c=$(O)/%) $(O)/tests/integration/test_cycles
	$(Q)TATTACH_CYCLES=1000 sh tests/run-all.sh $(O) $(STRESS_SRCS:%.c=$(O)/%) $(O)/tests/integration/test_cycles \
		pfe:$(O)/tests/stress/test_tracer_death hijack:$(O)/tests/stress/test_tracer_death

bench: deps
	$(Q)$(MAKE) --no-print-directory all targets
	$(Q)sh tests/bench/run.sh $(O)

# ---------------------------------------------------------------- install
# make install PREFIX=/usr/local DESTDIR=/tmp/stage: the two programs, their
# man pages (docs/man, written by hand) and the bash completion, which the
# bash-completion package loads by command name (one file, two names).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INCLUDEDIR  ?= $(PREFIX)/include
INSTALLED   := $(BINDIR)/tattach $(BINDIR)/tread $(MANDIR)/man1/tattach.1 \
	       $(MANDIR)/man1/tread.1 $(BASHCOMPDIR)/tattach $(BASHCOMPDIR)/tread \
	       $(INCLUDEDIR)/tattach/mark.h

.PHONY: install uninstall
install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	$(Q)install -m 755 $(TATTACH) $(TREAD) $(DESTDIR)$(BINDIR)/
	$(Q)install -m 644 docs/man/tattach.1 docs/man/tread.1 $(DESTDIR)$(MANDIR)/man1/
	$(Q)install -m 644 completion/tattach.bash $(DESTDIR)$(BASHCOMPDIR)/tattach
	$(Q)install -m 644 completion/tattach.bash $(DESTDIR)$(BASHCOMPDIR)/tread
	$(Q)install -d $(DESTDIR)$(INCLUDEDIR)/tattach	# <tattach/mark.h> for programs
	$(Q)install -m 644 include/tattach/mark.h $(DESTDIR)$(INCLUDEDIR)/tattach/

uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
