# intake — email intake daemon.
#
#   make            build build/intaked and build/intakectl
#   make deps       install the Debian packages the build, tests and demo need
#   make check      build, then run every test (unit and end-to-end)
#   make sanitize   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       run the daemon against loopback servers with sample mail
#   make install    PREFIX, DESTDIR, sysconfdir

PREFIX     ?= /usr/local
sysconfdir ?= /etc
DESTDIR    ?=
BUILD      ?= build

PKGS = gmime-3.0 glib-2.0 libcurl sqlite3 libjpeg libavformat libavutil \
       libmagic libarchive libcrypto libsystemd json-glib-1.0 xlsxwriter

CC      ?= cc
CSTD     = -std=c17 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wpedantic -Wformat=2 -Wmissing-prototypes \
           -Wold-style-definition -Wimplicit-fallthrough -Wshadow \
           -Wstrict-prototypes -Wno-overlength-strings -Wvla
OPT     ?= -O2 -g
SAN     ?=
PKG_CFLAGS := $(shell pkg-config --cflags $(filter-out libmagic,$(PKGS)) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libmagic,$(PKGS)) 2>/dev/null) -lmagic -lytnef
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(SAN) $(PKG_CFLAGS) -Ilib -MMD -MP
LDFLAGS += $(SAN)
LDLIBS  += $(PKG_LIBS) -lm

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

all: $(BUILD)/intaked $(BUILD)/intakectl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libintake.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/intaked: $(BUILD)/daemon/intaked.o $(BUILD)/libintake.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/intakectl: $(BUILD)/daemon/intakectl.o $(BUILD)/libintake.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libintake.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libintake.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests-build: all $(UNIT_BIN) $(TOOL_BIN)

deps:
	@sh tests/deps.sh

# The test runner prints one line per test and ends with "N passed, N failed".
check: deps
	$(MAKE) tests-build
	BUILD=$(BUILD) sh tests/run

sanitize: deps
	$(MAKE) BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" tests-build
	BUILD=build-san INTAKE_SANITIZE=1 sh tests/run

demo: deps all
	sh tests/demo.sh

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(BUILD)/daemon/intaked.d $(BUILD)/daemon/intakectl.d \
	$(UNIT_BIN:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d)

.PHONY: all deps check sanitize demo clean tests-build
.SECONDARY:
