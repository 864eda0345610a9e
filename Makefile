# Strata — the two set-up commands are `make demo` and `make test`; both install missing Debian
# packages (scripts/install-deps.sh) and build first.
BUILD      ?= build
JOBS       ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
CTEST_ARGS ?=
ifeq ($(CI),true)
  CMAKE_FLAGS += -DSTRATA_WERROR=ON
else
  # Long-running labels run in CI (CI=true) only.
  CTEST_ARGS += -LE long
endif

.PHONY: all deps configure build test demo bench fuzz sanitize console-dev console-screenshots format clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) > $(BUILD).configure.log || (cat $(BUILD).configure.log; exit 1)

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 600 $(CTEST_ARGS)

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@scripts/install-deps.sh --peers
	@scripts/bench.sh $(BUILD)

# Deep fuzzing: clang + libFuzzer + ASan/UBSan in build-fuzz/, FUZZ_SECONDS per target
# (tests/fuzz/README.md). `make test` already runs every target's seeds + 20,000 mutations.
FUZZ_SECONDS ?= 60
fuzz: build
	@scripts/fuzz.sh $(BUILD) $(FUZZ_SECONDS)

# Library unit tests (label `lib`) under sanitizers in $(SAN_BUILD)/: SANITIZE=address,undefined
# (default) or SANITIZE=thread. CI runs the ASan+UBSan pass after `make test`.
SANITIZE  ?= address,undefined
SAN_BUILD ?= build-san
sanitize: deps
	@cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=$(SANITIZE) \
	  -DSTRATA_BUILD_BENCHMARKS=OFF $(CMAKE_FLAGS) > $(SAN_BUILD).configure.log || (cat $(SAN_BUILD).configure.log; exit 1)
	@cmake --build $(SAN_BUILD) -j $(JOBS) --target lib_tests
	@cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest -j $(JOBS) -L lib --output-on-failure --timeout 900

# Console UI with hot reload (docs/console.md): vite dev server, /api proxied to a running
# strata-console at STRATA_CONSOLE_URL (default http://127.0.0.1:8090).
console-dev:
	@cd web/console && (test -d node_modules || npm ci) && npm run dev

# Fresh docs/images/console-*.png: the console end-to-end test against the built binaries, waiting
# for richer data (alerts, segment history, federated rounds) before each screenshot.
console-screenshots:
	@cd web/console && node e2e/console.e2e.mjs --bin-dir $(abspath $(BUILD))/bin --screenshots $(CURDIR)/docs/images --docs-shots

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
