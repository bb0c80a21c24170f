# libFuzzer targets for tread's ring file decoding (docs/fuzzing.md).
# Included by the Makefile, which provides O, Q and msg.
#
#   make fuzz [FUZZ_TIME=60] [FUZZ_ARGS=...]
#                       build every tests/fuzz/fuzz_*.c with libFuzzer and
#                       run each for FUZZ_TIME seconds on its corpus
#   make fuzz-corpus    regenerate the seed corpus (tests/fuzz/mkcorpus.c)
#   make fuzz-cov       line coverage of consumer/ by the corpus fuzzing grew
#   FUZZ_CHECK_BINS     replay binaries (ASan+UBSan, no libFuzzer) that run
#                       every seed and regression input; part of make check

CLANG     ?= clang
FUZZ_TIME ?= 60
FUZZ_ARGS ?= -max_len=65536 -timeout=10 -rss_limit_mb=2048

FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# The code under test: all of tread but its main().  symbols/ is replaced by
# a stub that never opens the module paths the input names (sym_stub.c),
# and so are the readers of imports and functions of patcher/ (elf_stub.c).
FUZZ_CONSUMER_DIRS := $(filter consumer%,$(LIB_DIRS))	# consumer/ and its subfolders
# All of them but main() and formats.c (the dispatcher names every writer;
# the folder writers need not build with clang's warnings here), and
# input/children.c (tread --children: it reads the ring folder through
# ringfiles/ringtree.c, not a ring's bytes); but ringfiles/ringname.c, which
# tells a kept earlier program's ring by its name, and opens nothing.
FUZZ_SRCS := $(filter-out consumer/main.c consumer/export/formats.c consumer/input/children.c,\
	       $(wildcard $(FUZZ_CONSUMER_DIRS:%=%/*.c))) tests/fuzz/sym_stub.c \
	     tests/fuzz/elf_stub.c symbols/name_match.c ringfiles/ringname.c
FUZZ_DEPS := $(FUZZ_SRCS) $(wildcard $(FUZZ_CONSUMER_DIRS:%=%/*.h)) symbols/symbols.h symbols/module_file.h \
	     patcher/imports.h patcher/entries.h ringfiles/ringname.h \
	     include/tattach/ring.h tests/fuzz/fuzz.mk \
	     $(O)/consumer/export/viewer_page.h	# generated: html.c includes it

FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude -I. -I$(O) -Itests -Wall -Wextra -Werror \
	       -Wno-unused-parameter -g -O1 -fno-omit-frame-pointer \
	       $(shell pkg-config --cflags libdw libelf 2>/dev/null)
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all

FUZZ_BINS       := $(FUZZ_TARGETS:%=$(O)/fuzz/%)
FUZZ_CHECK_BINS := $(FUZZ_TARGETS:%=$(O)/tests/fuzz/%)
FUZZ_MKCORPUS   := $(O)/fuzz/mkcorpus

.PHONY: fuzz fuzz-corpus fuzz-cov

# libFuzzer builds.
$(FUZZ_BINS): $(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_DEPS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(FUZZ_SRCS)

# Corpus replay for make check: same code and sanitizers, our own main().
$(FUZZ_CHECK_BINS): $(O)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(FUZZ_DEPS)
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) -DFUZZ_TARGET='"$*"' -o $@ \
		$< tests/fuzz/replay_main.c $(FUZZ_SRCS)

# Each target runs on a copy of its seed corpus under $(O)/fuzz/corpus/, which
# keeps growing from one run to the next (rm -rf it for a fresh start).
# Crashing inputs land in tests/fuzz/crashes/<target>/.
fuzz: $(FUZZ_BINS)
	$(Q)status=0; for t in $(FUZZ_TARGETS); do \
		work=$(O)/fuzz/corpus/$$t; log=$(O)/fuzz/$$t.log; \
		mkdir -p $$work tests/fuzz/crashes/$$t; \
		cp tests/fuzz/corpus/$$t/* $$work/; \
		echo "== fuzzing $$t for $(FUZZ_TIME) s on $$work (log: $$log)"; \
		start=$$(date +%s); \
		{ $(O)/fuzz/$$t $(FUZZ_ARGS) -max_total_time=$(FUZZ_TIME) \
			-print_final_stats=1 -artifact_prefix=tests/fuzz/crashes/$$t/ \
			$$work; echo $$? > $$log.rc; } 2>&1 | tee $$log; \
		rc=$$(cat $$log.rc); end=$$(date +%s); \
		execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
		cov=$$(grep -o 'cov: [0-9]* ft: [0-9]*' $$log | tail -n 1); \
		echo "$$t: $${execs:-?} executions in $$((end - start)) s, $${cov:-no coverage line}, corpus $$(ls $$work | wc -l) inputs"; \
		if [ "$$rc" != 0 ]; then status=1; \
			echo "$$t: FAILED (exit $$rc): input saved in tests/fuzz/crashes/$$t/"; fi; \
	done; exit $$status

$(FUZZ_MKCORPUS): tests/fuzz/mkcorpus.c tests/lib/ringgen.c tests/lib/ringgen.h include/tattach/ring.h
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ tests/fuzz/mkcorpus.c tests/lib/ringgen.c \
		$(shell pkg-config --libs libelf 2>/dev/null)

fuzz-corpus: $(FUZZ_MKCORPUS) $(O)/tread
	$(Q)mkdir -p tests/fuzz/corpus/fuzz_ring
	$(Q)$(FUZZ_MKCORPUS) tests/fuzz/corpus/fuzz_ring
	$(Q)mkdir -p tests/fuzz/corpus/fuzz_saved
	$(Q)for f in tests/fuzz/corpus/fuzz_ring/*; do \
		$(O)/tread -i $$f --save tests/fuzz/corpus/fuzz_saved/$${f##*/}.tsave 2>/dev/null || exit 1; \
	done

# Source-based coverage of consumer/ by the corpus in $(O)/fuzz/corpus
# (after make fuzz) or else the seeds.
LLVM_PROFDATA ?= $(firstword $(shell command -v llvm-profdata llvm-profdata-14 2>/dev/null))
LLVM_COV      ?= $(firstword $(shell command -v llvm-cov llvm-cov-14 2>/dev/null))

fuzz-cov:
	$(Q)set -e; for t in $(FUZZ_TARGETS); do \
		d=$(O)/fuzz/cov; mkdir -p $$d; \
		$(CLANG) $(FUZZ_CFLAGS) -DFUZZ_SOFT_CHECKS -fprofile-instr-generate -fcoverage-mapping \
			-DFUZZ_TARGET="\"$$t\"" -o $$d/$$t tests/fuzz/$$t.c \
			tests/fuzz/replay_main.c $(FUZZ_SRCS); \
		corpus=$(O)/fuzz/corpus/$$t; [ -d $$corpus ] || corpus=tests/fuzz/corpus/$$t; \
		crashes=tests/fuzz/crashes/$$t; [ -d $$crashes ] || crashes=; \
		rm -f $$d/$$t.profraw; \
		LLVM_PROFILE_FILE=$$d/$$t.profraw $$d/$$t $$corpus $$crashes >/dev/null 2>&1 || true; \
		$(LLVM_PROFDATA) merge -o $$d/$$t.profdata $$d/$$t.profraw; \
		echo "== $$t: coverage by $$corpus"; \
		$(LLVM_COV) report $$d/$$t -instr-profile=$$d/$$t.profdata \
			$(filter-out consumer/main.c,$(wildcard $(FUZZ_CONSUMER_DIRS:%=%/*.c))); \
	done
