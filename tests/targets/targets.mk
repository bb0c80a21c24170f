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


# A -pg program that dlopen()s libwork.so on command.
$(O)/tests/targets/dlopener: tests/targets/lib/dlopener.c $(O)/tests/targets/libwork.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg -o $@ $< -ldl

TARGET_BINS += $(O)/tests/targets/dlopener

# tattach --libcalls: a -pg program calling libc through lazy PLT, -z now
# (full RELRO), -fno-plt (GOT) and non-PIE PLT.
LIBCALLS_VARIANTS := lazy now noplt nopie
LIBCALLS_FLAGS_lazy  :=
LIBCALLS_FLAGS_now   := -Wl,-z,now -Wl,-z,relro
LIBCALLS_FLAGS_noplt := -fno-plt
LIBCALLS_FLAGS_nopie := -fno-pic -no-pie
$(O)/tests/targets/libcalls.%: tests/targets/lib/libcalls.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TARGET_CFLAGS) -O2 -pg $(LIBCALLS_FLAGS_$*) -o $@ $<

TARGET_BINS += $(foreach v,$(LIBCALLS_VARIANTS),$(O)/tests/targets/libcalls.$(v))

targets: $(TARGET_BINS)

