// The gcc-build fuzz driver: runs a target's seeds and then `--runs` deterministic mutations of
// them (bit flips, byte sets, inserts, deletes, duplicated ranges, splices, truncations, boundary
// integers). On a crash or an escaped exception it writes the input to
// fuzz-crash-<target>-<seed>-<run>.bin in the working directory and prints how to replay it.
// Usage: fuzz_<target> [--runs N] [--seed S] [--max-len L] [--write-seeds DIR] [FILE...]
// (FILEs are replayed as inputs, e.g. a saved crash).
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz.h"
#include "strata/core/rng.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const char* g_target = "target";
std::string g_current;
uint64_t g_seed = 1;
long g_run = -1;

void SaveCurrent(const char* why) {
  char path[256];
  std::snprintf(path, sizeof path, "fuzz-crash-%s-%llu-%ld.bin", g_target,
                static_cast<unsigned long long>(g_seed), g_run);
  if (FILE* f = std::fopen(path, "wb")) {
    std::fwrite(g_current.data(), 1, g_current.size(), f);
    std::fclose(f);
  }
  std::fprintf(stderr, "fuzz %s: %s on run %ld (seed %llu, %zu bytes); input saved to %s; replay: "
               "fuzz_%s %s\n", g_target, why, g_run, static_cast<unsigned long long>(g_seed),
               g_current.size(), path, g_target, path);
}

void OnSignal(int sig) {
  SaveCurrent(strsignal(sig));
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

bool RunOne(const std::string& input) {
  g_current = input;
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  } catch (const std::exception& e) {
    SaveCurrent((std::string("uncaught exception: ") + e.what()).c_str());
    return false;
  } catch (...) {
    SaveCurrent("uncaught exception");
    return false;
  }
  return true;
}

std::string Mutate(const std::string& in, const std::vector<std::string>& pool, strata::Rng& rng,
                   size_t max_len) {
  std::string s = in;
  const int steps = 1 + static_cast<int>(rng.UniformInt(0, 3));
  for (int i = 0; i < steps; ++i) {
    const size_t n = s.size();
    auto pos = [&](size_t limit) { return limit == 0 ? 0 : static_cast<size_t>(rng.UniformInt(0, limit - 1)); };
    switch (rng.UniformInt(0, 8)) {
      case 0:  // flip a bit
        if (n) s[pos(n)] ^= static_cast<char>(1u << rng.UniformInt(0, 7));
        break;
      case 1:  // set a random byte
        if (n) s[pos(n)] = static_cast<char>(rng.UniformInt(0, 255));
        break;
      case 2: {  // insert random bytes
        std::string ins(static_cast<size_t>(rng.UniformInt(1, 8)), '\0');
        for (char& c : ins) c = static_cast<char>(rng.UniformInt(0, 255));
        s.insert(pos(n + 1), ins);
        break;
      }
      case 3:  // delete a range
        if (n) {
          size_t p = pos(n);
          s.erase(p, static_cast<size_t>(rng.UniformInt(1, std::max<int64_t>(1, (n - p) / 2 + 1))));
        }
        break;
      case 4:  // duplicate a range
        if (n) {
          size_t p = pos(n), len = static_cast<size_t>(rng.UniformInt(1, std::min<int64_t>(64, n - p)));
          s.insert(pos(n + 1), s.substr(p, len));
        }
        break;
      case 5:  // splice with another seed
        if (!pool.empty()) {
          const std::string& o = pool[pos(pool.size())];
          s = s.substr(0, pos(n + 1)) + o.substr(pos(o.size() + 1));
        }
        break;
      case 6:  // truncate
        s.resize(pos(n + 1));
        break;
      case 7: {  // a boundary integer, little-endian, at a random place
        static const uint64_t kValues[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff,
                                           0xffffffff, 0x7fffffffffffffffULL, ~0ULL};
        uint64_t v = kValues[pos(sizeof kValues / sizeof kValues[0])];
        size_t width = size_t{1} << rng.UniformInt(0, 3);
        if (n >= width) std::memcpy(&s[pos(n - width + 1)], &v, width);
        break;
      }
      default: {  // a structural character for text formats
        static const char kTokens[] = "{}[]\":,\n-.0123456789eE \\";
        s.insert(pos(n + 1), 1, kTokens[pos(sizeof kTokens - 1)]);
        break;
      }
    }
  }
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string self = std::filesystem::path(argv[0]).filename().string();
  static std::string name = self.rfind("fuzz_", 0) == 0 ? self.substr(5) : self;
  g_target = name.c_str();
  long runs = 2000;
  size_t max_len = 1 << 16;
  std::string write_seeds;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fuzz_%s: %s needs a value\n", g_target, a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--runs") runs = std::stol(next());
    else if (a == "--seed") g_seed = std::stoull(next());
    else if (a == "--max-len") max_len = std::stoul(next());
    else if (a == "--write-seeds") write_seeds = next();
    else files.push_back(a);
  }
  std::vector<std::string> seeds = strata::fuzz::Seeds();
  if (!write_seeds.empty()) {
    std::filesystem::create_directories(write_seeds);
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream out(write_seeds + "/seed-" + std::to_string(i), std::ios::binary);
      out << seeds[i];
    }
    return 0;
  }
  for (int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGBUS, SIGILL}) std::signal(sig, OnSignal);
  if (!files.empty()) {
    for (const std::string& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (!RunOne(ss.str())) return 1;
    }
    std::printf("fuzz_%s: %zu file(s) ok\n", g_target, files.size());
    return 0;
  }
  for (const std::string& s : seeds)
    if (!RunOne(s)) return 1;
  strata::Rng rng(g_seed);
  std::vector<std::string> pool = seeds;
  for (g_run = 0; g_run < runs; ++g_run) {
    const std::string& base = pool[static_cast<size_t>(rng.UniformInt(0, pool.size() - 1))];
    std::string input = Mutate(base, pool, rng, max_len);
    if (!RunOne(input)) return 1;
    // Keep some mutants as new bases, so mutations compound (bounded pool).
    if (pool.size() < 256 && rng.Bernoulli(0.05)) pool.push_back(std::move(input));
  }
  std::printf("fuzz_%s: %zu seeds + %ld mutations (seed %llu): no crash, no escaped exception\n",
              g_target, seeds.size(), runs, static_cast<unsigned long long>(g_seed));
  return 0;
}
