# Test targets, built in every compile mode tattach supports.
#
#   $(O)/tests/targets/<name>.<mode>.<opt>
#
# Modes (the flags a user would build with):
TARGET_MODES := pg pg-nopie fentry fentry-nopie nop-mcount record-mcount pfe
TARGET_OPTS  := O0 O2

MODE_FLAGS_pg            := -pg
MODE_FLAGS_pg-nopie      := -pg -fno-pic -no-pie
MODE_FLAGS_fentry        := -pg -mfentry
MODE_FLAGS_fentry-nopie  := -pg -mfentry -fno-pic -no-pie
MODE_FLAGS_nop-mcount    := -pg -mfentry -mnop-mcount -mrecord-mcount -fno-pic -no-pie
MODE_FLAGS_record-mcount := -pg -mrecord-mcount -fno-pic -no-pie
MODE_FLAGS_pfe           := -fpatchable-function-entry=5

# Programs built in every mode and optimisation level.
TARGET_PROGS := calltree abi
# Programs built once (-pg -O2) for scenario tests.
TARGET_SINGLE := $(basename $(notdir $(filter-out $(addprefix tests/targets/,$(addsuffix .c,$(TARGET_PROGS))),$(wildcard tests/targets/*.c))))

TARGET_BINS := $(foreach p,$(TARGET_PROGS),$(foreach m,$(TARGET_MODES),$(foreach o,$(TARGET_OPTS),$(O)/tests/targets/$(p).$(m).$(o)))) \
	       $(foreach p,$(TARGET_SINGLE),$(O)/tests/targets/$(p))

TARGET_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -g -pthread

define target_rule
$(O)/tests/targets/$(1).$(2).$(3): tests/targets/$(1).c
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(TARGET_CFLAGS) -$(3) $$(MODE_FLAGS_$(2)) -o $$@ $$< -lm
endef
$(foreach p,$(TARGET_PROGS),$(foreach m,$(TARGET_MODES),$(foreach o,$(TARGET_OPTS),$(eval $(call target_rule,$(p),$(m),$(o))))))

$(O)/tests/targets/%: tests/targets/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg -o $@ $< -lm


# A -pg program using a -pg shared library (two modules, far apart).
$(O)/tests/targets/libwork.so: tests/targets/lib/libwork.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg -fPIC -shared -o $@ $<

$(O)/tests/targets/uselib: tests/targets/lib/uselib.c $(O)/tests/targets/libwork.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg -o $@ $< -L$(O)/tests/targets -lwork -Wl,-rpath,'$$ORIGIN'

TARGET_BINS += $(O)/tests/targets/uselib

# The same library with patchable entries, for hazards.pfe's "park A LIB"
# (test_sigframes.c: a sled in a library loaded after the first --enable).
$(O)/tests/targets/libwork.pfe.so: tests/targets/lib/libwork.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -fpatchable-function-entry=5 -fPIC -shared -o $@ $<
TARGET_BINS += $(O)/tests/targets/libwork.pfe.so

# And with neither: dlopener's "load libwork.plain.so", traced with --module
# and --libcalls (test_modules.c: a library loaded again at the same address).
$(O)/tests/targets/libwork.plain.so: tests/targets/lib/libwork.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -fPIC -shared -o $@ $<
TARGET_BINS += $(O)/tests/targets/libwork.plain.so


# A -pg program that dlopen()s libwork.so on command.
$(O)/tests/targets/dlopener: tests/targets/lib/dlopener.c $(O)/tests/targets/libwork.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg -o $@ $< -ldl

TARGET_BINS += $(O)/tests/targets/dlopener

# A -pg library whose constructor calls into it (tattach --follow traces it
# inside dlopen(): tests/targets/follower.c).
$(O)/tests/targets/libctor.so: tests/targets/lib/libctor.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg -fPIC -shared -o $@ $<

TARGET_BINS += $(O)/tests/targets/libctor.so

# Programs with nothing to trace that start a traced one (follower's
# "relay"): linked dynamically, and statically (no dynamic linker to hook).
$(O)/tests/targets/relay.plain: tests/targets/lib/relay.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -o $@ $<
$(O)/tests/targets/relay.static: tests/targets/lib/relay.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -static -o $@ $<
TARGET_BINS += $(O)/tests/targets/relay.plain $(O)/tests/targets/relay.static

# A program run from an anonymous file (memfd_create + fexecve).
$(O)/tests/targets/memexec: tests/targets/lib/memexec.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -o $@ $<
TARGET_BINS += $(O)/tests/targets/memexec

# tattach --libcalls: a -pg program calling libc through lazy PLT, -z now
# (full RELRO), -fno-plt (GOT), non-PIE PLT and the IBT PLT (.plt.sec).
LIBCALLS_VARIANTS := lazy now noplt nopie ibt
LIBCALLS_FLAGS_lazy  :=
LIBCALLS_FLAGS_now   := -Wl,-z,now -Wl,-z,relro
LIBCALLS_FLAGS_noplt := -fno-plt
LIBCALLS_FLAGS_nopie := -fno-pic -no-pie
LIBCALLS_FLAGS_ibt   := -fcf-protection=full -Wl,-z,ibtplt
$(O)/tests/targets/libcalls.%: tests/targets/lib/libcalls.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg $(LIBCALLS_FLAGS_$*) -o $@ $<

TARGET_BINS += $(foreach v,$(LIBCALLS_VARIANTS),$(O)/tests/targets/libcalls.$(v))

# tattach --entry: calltree built WITHOUT -pg, by gcc and clang, -O0..-O3,
# PIE with CET landing pads (-fcf-protection) and non-PIE without.
ENTRY_CCS    := gcc clang
ENTRY_OPTS   := O0 O2 O3
ENTRY_LAYOUT := pie-cet nopie
ENTRY_FLAGS_pie-cet := -fpie -pie -fcf-protection=full
ENTRY_FLAGS_nopie   := -fno-pie -no-pie -fcf-protection=none
ENTRY_WFLAGS_clang  := -Wno-unknown-attributes
define entry_rule
$(O)/tests/targets/calltree.plain.$(1).$(2).$(3): tests/targets/calltree.c
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(dir $$@)
	$$(Q)$(1) $$(TARGET_CFLAGS) $$(ENTRY_WFLAGS_$(1)) -$(2) $$(ENTRY_FLAGS_$(3)) -o $$@ $$< -lm
endef
$(foreach c,$(ENTRY_CCS),$(foreach o,$(ENTRY_OPTS),$(foreach l,$(ENTRY_LAYOUT),$(eval $(call entry_rule,$(c),$(o),$(l))))))
TARGET_BINS += $(foreach c,$(ENTRY_CCS),$(foreach o,$(ENTRY_OPTS),$(foreach l,$(ENTRY_LAYOUT),$(O)/tests/targets/calltree.plain.$(c).$(o).$(l))))

# Functions whose entry must be refused (asm), and a stripped program.
$(O)/tests/targets/entryrefuse: tests/targets/lib/entryrefuse.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -o $@ $<
$(O)/tests/targets/calltree.stripped: $(O)/tests/targets/calltree.plain.gcc.O2.nopie
	$(call msg,STRIP,$@)
	$(Q)strip -o $@ $<
# No symbols and no .eh_frame_hdr: nothing tells where functions start.
$(O)/tests/targets/calltree.nosyms: tests/targets/calltree.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -fno-pie -no-pie -fno-asynchronous-unwind-tables \
		-Wl,--no-eh-frame-hdr -s -o $@ $<
TARGET_BINS += $(O)/tests/targets/entryrefuse $(O)/tests/targets/calltree.stripped \
	$(O)/tests/targets/calltree.nosyms
# Threads spinning inside the first bytes of functions (test_entries_stepout).
$(O)/tests/targets/entryspin: tests/targets/lib/entryspin.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -o $@ $<
TARGET_BINS += $(O)/tests/targets/entryspin
# hazards without -pg at -O0 (functions begin "push %rbp; mov %rsp,%rbp": a
# thread can stop inside an entry's window): test_sigframes.c, --entry.
$(O)/tests/targets/hazards.plain.O0: tests/targets/hazards.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O0 -fno-pie -no-pie -fcf-protection=none -o $@ $<
TARGET_BINS += $(O)/tests/targets/hazards.plain.O0


# The coroutine scheduler also at -O0 (tests/integration/test_coroutines.c).
$(O)/tests/targets/coro.O0: tests/targets/coro.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O0 -pg -o $@ $<

TARGET_BINS += $(O)/tests/targets/coro.O0


# C++ exceptions through traced frames (tests/integration/test_exceptions.c).
$(O)/tests/targets/libthrow.so: tests/targets/lib/libthrow.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)g++ -std=gnu++17 -Wall -Wextra -Werror -g -O2 -pg -fno-optimize-sibling-calls -fPIC -shared -o $@ $<

$(O)/tests/targets/exc: tests/targets/exc.cc $(O)/tests/targets/libthrow.so
	$(call msg,CXX,$@)
	$(Q)g++ -std=gnu++17 -Wall -Wextra -Werror -g -O2 -pg -fno-optimize-sibling-calls -pthread -o $@ $< \
		-L$(O)/tests/targets -lthrow -Wl,-rpath,'$$ORIGIN'

targets: $(O)/tests/targets/exc

# Unwinding through frames adopted at --enable, after --disable
# (tests/integration/test_unhijack.c).
$(O)/tests/targets/exc_held: tests/targets/exc_held.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)g++ -std=gnu++17 -Wall -Wextra -Werror -g -O2 -pg -fno-optimize-sibling-calls -pthread -o $@ $<

targets: $(O)/tests/targets/exc_held

# pthread_cancel() through traced C++ frames (tests/integration/test_cancel.c).
$(O)/tests/targets/cancelxx: tests/targets/cancelxx.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)g++ -std=gnu++17 -Wall -Wextra -Werror -g -O2 -pg -fno-optimize-sibling-calls -pthread -o $@ $< -ldl

targets: $(O)/tests/targets/cancelxx
# argvals with __fentry__ sites too: tattach -A/-R at both kinds of entry
$(O)/tests/targets/argvals.fentry: tests/targets/argvals.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg -mfentry -o $@ $<

TARGET_BINS += $(O)/tests/targets/argvals.fentry

# argvals WITHOUT -pg, PIE with CET landing pads: tattach --entry -A/-R
# (tests/integration/test_entry_args.c); without DWARF (.nodebug: its
# symbols kept) or stripped (functions named by address): only a SPEC says
$(O)/tests/targets/argvals.plain.%: tests/targets/argvals.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -$* -fpie -pie -fcf-protection=full -o $@ $<
$(O)/tests/targets/argvals.stripped: $(O)/tests/targets/argvals.plain.O2
	$(call msg,STRIP,$@)
	$(Q)strip -o $@ $<
$(O)/tests/targets/argvals.nodebug: $(O)/tests/targets/argvals.plain.O2
	$(call msg,STRIP,$@)
	$(Q)strip --strip-debug -o $@ $<

TARGET_BINS += $(O)/tests/targets/argvals.plain.O0 $(O)/tests/targets/argvals.plain.O2 \
	$(O)/tests/targets/argvals.stripped $(O)/tests/targets/argvals.nodebug

# marks: <tattach/mark.h> from include/, with -pg and with patchable entries
$(O)/tests/targets/marks: tests/targets/marks.c include/tattach/mark.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -Iinclude -O2 -pg -o $@ $<

$(O)/tests/targets/marks.pfe: tests/targets/marks.c include/tattach/mark.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -Iinclude -O2 -fpatchable-function-entry=5 -o $@ $<

TARGET_BINS += $(O)/tests/targets/marks.pfe

# The scenario targets of the hazard suites, built with patchable entries
# as well: their sites jump to call-through stubs where -pg's call the
# trampoline (tests/run-all.sh runs those suites on both, "pfe:" there).
$(O)/tests/targets/%.pfe: tests/targets/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -fpatchable-function-entry=5 -o $@ $< -lm
$(O)/tests/targets/coro.O0.pfe: tests/targets/coro.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O0 -fpatchable-function-entry=5 -o $@ $<
# the program with patchable entries, its library still -pg: a throw
# crosses both kinds of traced frame
$(O)/tests/targets/exc.pfe: tests/targets/exc.cc $(O)/tests/targets/libthrow.so
	$(call msg,CXX,$@)
	$(Q)g++ -std=gnu++17 -Wall -Wextra -Werror -g -O2 -fpatchable-function-entry=5 \
		-fno-optimize-sibling-calls -pthread -o $@ $< \
		-L$(O)/tests/targets -lthrow -Wl,-rpath,'$$ORIGIN'
$(O)/tests/targets/%.pfe: tests/targets/%.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)g++ -std=gnu++17 -Wall -Wextra -Werror -g -O2 -fpatchable-function-entry=5 \
		-fno-optimize-sibling-calls -pthread -o $@ $< -ldl
PFE_SCENARIOS := hazards forks coro coro.O0 exc exc_held cancelxx spinner stuck blocking follower
TARGET_BINS += $(PFE_SCENARIOS:%=$(O)/tests/targets/%.pfe)

# Last: a rule's prerequisites are expanded where it is read, so every
# TARGET_BINS += above must come before it.
targets: $(TARGET_BINS)
