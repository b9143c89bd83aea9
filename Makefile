# intake — email intake daemon.
#
#   make            build build/intaked and build/intakectl
#   make deps       install the Debian packages the build, tests and demo need
#   make check      build, then run every test (unit and end-to-end), again
#                   under ASan + UBSan, and the pipeline test under valgrind
#   make test       the same as make check
#   make sanitize   every test under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       libFuzzer on the parsers, FUZZ_SECONDS (60) each (clang)
#   make demo       run the daemon against loopback servers with sample mail
#   make bench      the performance benchmark (bench/README.md)
#   make install    PREFIX, DESTDIR, sysconfdir

PREFIX     ?= /usr/local
sysconfdir ?= /etc
DESTDIR    ?=
BUILD      ?= build

PKGS = gmime-3.0 glib-2.0 libcurl sqlite3 libjpeg libavformat libavcodec \
       libavutil libmagic libarchive libcrypto libsystemd json-glib-1.0 \
       xlsxwriter libytnef

CC      ?= cc
CSTD     = -std=c17 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wpedantic -Wformat=2 -Wmissing-prototypes \
           -Wold-style-definition -Wimplicit-fallthrough -Wshadow \
           -Wstrict-prototypes -Wno-overlength-strings -Wvla
OPT     ?= -O2 -g
SAN     ?=
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(SAN) $(PKG_CFLAGS) -iquote lib -MMD -MP
LDFLAGS += $(SAN)
LDLIBS  += $(PKG_LIBS) -lm

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
# fuzz/fuzz_NAME.c: a libFuzzer harness (make fuzz: $(BUILD)/fuzz/fuzz_NAME)
# and, linked with fuzz/replay.c, the test program test_fuzz_NAME that
# runs it over fuzz/regressions/NAME/
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
REPLAY_BIN := $(FUZZ_SRC:fuzz/fuzz_%.c=$(BUILD)/tests/test_fuzz_%)

all: $(BUILD)/intaked $(BUILD)/intakectl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libintake.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/intaked: $(BUILD)/daemon/intaked.o $(BUILD)/libintake.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

CTL_SRC  := $(sort $(wildcard daemon/ctl_*.c))
CTL_OBJ  := $(CTL_SRC:%.c=$(BUILD)/%.o)

$(BUILD)/intakectl: $(BUILD)/daemon/intakectl.o $(CTL_OBJ) $(BUILD)/libintake.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libintake.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libintake.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/util.o \
		$(BUILD)/fuzz/replay.o $(BUILD)/libintake.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/util.o \
		$(BUILD)/libintake.a
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# valgrind cannot run libhwy's start-up timer on a CPU without RDTSCP
# (tests/valgrind/hwy_timer.c says why): this stands in for it.
$(BUILD)/valgrind/libhwy_timer.so: tests/valgrind/hwy_timer.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $<

# The fault tests' LD_PRELOAD: a worker that stalls where it is told.
$(BUILD)/faults/libslow_worker.so: tests/faults/slow_worker.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $< -ldl

tests-build: all $(UNIT_BIN) $(TOOL_BIN) $(REPLAY_BIN) \
	$(BUILD)/valgrind/libhwy_timer.so $(BUILD)/faults/libslow_worker.so

deps:
	@sh tests/deps.sh

# The sanitizer build: its own directory, the same sources.
SAN_BUILD  = build-san
SAN_MAKE   = $(MAKE) BUILD=$(SAN_BUILD) OPT="-O1 -g -fno-omit-frame-pointer" \
	     SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"

# The test runner prints one line per test and ends with "N passed, N
# failed": here one summary of three passes, every test in $(BUILD), every
# test again in $(SAN_BUILD), and the pipeline test under valgrind.
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)

check: deps
	$(MAKE) -j$(JOBS) tests-build
	$(SAN_MAKE) -j$(JOBS) tests-build
	BUILD=$(BUILD) SAN_BUILD=$(SAN_BUILD) sh tests/run check

# the name people try first
test: check

sanitize: deps
	$(SAN_MAKE) -j$(JOBS) tests-build
	BUILD=$(SAN_BUILD) sh tests/run sanitize

# libFuzzer: clang, its own build directory, every harness for
# FUZZ_SECONDS, seeded from ../shared/corpus and tests/fixtures.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang \
	    OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	    fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh fuzz/run $(FUZZ_BUILD)

fuzzers: $(FUZZ_BIN)

# The crash test with 100 kills (CRASH_KILLS) and the IMAP and SMTP servers
# restarted in between; several minutes, not part of check.  It prints its
# seed: CRASH_SEED=n make torture replays a run.
torture: deps
	$(MAKE) tests-build
	BUILD=$(BUILD) /usr/bin/python3 tests/torture.py

.PHONY: torture

demo: deps all
	sh tests/demo.sh

# intake against Python's email + Pillow and against base64 -d + djpeg, on
# a corpus generated once into BENCH_CORPUS (about 1.3 GB); writes
# bench/results.json.  About ten minutes on two cores; bench/README.md.
BENCH_CORPUS ?= $(BUILD)/bench-corpus

bench: deps all
	/usr/bin/python3 bench/run.py --build $(BUILD) --corpus $(BENCH_CORPUS)

.PHONY: bench

clean:
	rm -rf build build-san build-fuzz

# make install [DESTDIR=...] [PREFIX=/usr/local] [sysconfdir=/etc]
#
# The units are checked in for PREFIX=/usr/local and sysconfdir=/etc;
# install rewrites /usr/local/bin/ and /etc/intake/ in them for other
# values.  systemd searches /lib/systemd/system (Debian's place for
# PREFIX=/usr) and /usr/local/lib/systemd/system, and the same lib/
# trees for sysusers.d and tmpfiles.d.  For another PREFIX, such as
# /opt/intake, either pass systemdunitdir=/etc/systemd/system or run
# `systemctl link` on the installed units, and give the installed
# snippets to systemd-sysusers and systemd-tmpfiles by path.
bindir         ?= $(PREFIX)/bin
mandir         ?= $(PREFIX)/share/man
intakeconfdir  ?= $(sysconfdir)/intake
ifeq ($(PREFIX),/usr)
systemdunitdir ?= /lib/systemd/system
sysusersdir    ?= /usr/lib/sysusers.d
tmpfilesdir    ?= /usr/lib/tmpfiles.d
else
systemdunitdir ?= $(PREFIX)/lib/systemd/system
sysusersdir    ?= $(PREFIX)/lib/sysusers.d
tmpfilesdir    ?= $(PREFIX)/lib/tmpfiles.d
endif
INSTALL        ?= install
TEMPLATES      := $(sort $(wildcard config/templates/*.txt))
UNITS          := intaked.service intaked@.service
UNIT_SED        = -e 's|/usr/local/bin/|$(bindir)/|g' \
		  -e 's|/etc/intake/|$(intakeconfdir)/|g'

install: all
	$(INSTALL) -D -m 0755 $(BUILD)/intaked $(DESTDIR)$(bindir)/intaked
	$(INSTALL) -D -m 0755 $(BUILD)/intakectl $(DESTDIR)$(bindir)/intakectl
	$(INSTALL) -D -m 0644 man/intaked.8 $(DESTDIR)$(mandir)/man8/intaked.8
	$(INSTALL) -D -m 0644 man/intakectl.1 \
	    $(DESTDIR)$(mandir)/man1/intakectl.1
	$(INSTALL) -D -m 0644 man/intake.conf.5 \
	    $(DESTDIR)$(mandir)/man5/intake.conf.5
	$(INSTALL) -D -m 0644 config/intake.conf.example \
	    $(DESTDIR)$(intakeconfdir)/intake.conf.example
	$(INSTALL) -D -m 0644 config/units.conf.example \
	    $(DESTDIR)$(intakeconfdir)/units.conf.example
	for f in $(TEMPLATES); do \
	    $(INSTALL) -D -m 0644 "$$f" \
		"$(DESTDIR)$(intakeconfdir)/templates/$${f##*/}" || exit 1; \
	done
	@mkdir -p $(BUILD)/systemd
	for u in $(UNITS); do \
	    sed $(UNIT_SED) "systemd/$$u" >"$(BUILD)/systemd/$$u" && \
	    $(INSTALL) -D -m 0644 "$(BUILD)/systemd/$$u" \
		"$(DESTDIR)$(systemdunitdir)/$$u" || exit 1; \
	done
	$(INSTALL) -D -m 0644 systemd/intake.sysusers \
	    $(DESTDIR)$(sysusersdir)/intake.conf
	$(INSTALL) -D -m 0644 systemd/intake.tmpfiles \
	    $(DESTDIR)$(tmpfilesdir)/intake.conf

# Removes what install put there; the configuration you wrote
# (intake.conf, units.conf, secrets) and the state directory stay.
uninstall:
	rm -f $(DESTDIR)$(bindir)/intaked $(DESTDIR)$(bindir)/intakectl \
	    $(DESTDIR)$(mandir)/man8/intaked.8 \
	    $(DESTDIR)$(mandir)/man1/intakectl.1 \
	    $(DESTDIR)$(mandir)/man5/intake.conf.5 \
	    $(DESTDIR)$(intakeconfdir)/intake.conf.example \
	    $(DESTDIR)$(intakeconfdir)/units.conf.example \
	    $(TEMPLATES:config/templates/%=$(DESTDIR)$(intakeconfdir)/templates/%) \
	    $(UNITS:%=$(DESTDIR)$(systemdunitdir)/%) \
	    $(DESTDIR)$(sysusersdir)/intake.conf \
	    $(DESTDIR)$(tmpfilesdir)/intake.conf
	rmdir $(DESTDIR)$(intakeconfdir)/templates $(DESTDIR)$(intakeconfdir) \
	    2>/dev/null || true

.PHONY: install uninstall

-include $(LIB_OBJ:.o=.d) $(CTL_OBJ:.o=.d) $(BUILD)/daemon/intaked.d \
	$(BUILD)/daemon/intakectl.d \
	$(UNIT_BIN:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d) \
	$(TOOL_SRC:%.c=$(BUILD)/%.d) \
	$(FUZZ_SRC:%.c=$(BUILD)/%.d) $(BUILD)/fuzz/util.d $(BUILD)/fuzz/replay.d

.PHONY: all deps check test sanitize fuzz fuzzers demo clean tests-build
.SECONDARY:
