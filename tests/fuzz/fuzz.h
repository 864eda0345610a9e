// Fuzz targets for every parser that reads bytes from outside the process (docs/reliability.md).
//
// Each target is one file defining the libFuzzer entry point plus its seed inputs:
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
//   std::vector<std::string> strata::fuzz::Seeds();
// Built two ways from the same source:
//  - in every build (gcc, `make test`): linked with driver.cc, a deterministic mutation driver that
//    runs the seeds and a bounded number of mutations (Tier A: crashes, sanitizer-free invariant
//    failures and escaped exceptions fail the test and save the input);
//  - with `make fuzz` (clang, -fsanitize=fuzzer,address,undefined): real libFuzzer, corpus seeded
//    from Seeds() via `--write-seeds`.
// A target must not throw, must not crash, and aborts (STRATA_FUZZ_CHECK) when an invariant of the
// parser it tests is broken (e.g. decode(encode(decode(x))) differs).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace strata::fuzz {
std::vector<std::string> Seeds();
}  // namespace strata::fuzz

#define STRATA_FUZZ_CHECK(cond)                                                        \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
