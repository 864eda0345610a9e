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

.PHONY: all deps configure build test demo bench fuzz format clean

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

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
