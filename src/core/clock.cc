#include "strata/core/clock.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>

namespace strata {
namespace {

class RealClock : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point MonotonicNow() const override {
    return std::chrono::steady_clock::now();
  }
  void SleepFor(Duration d) override { std::this_thread::sleep_for(d); }
};

bool ReadInt(std::string_view s, size_t& i, int digits, int& out) {
  if (i + digits > s.size()) return false;
  out = 0;
  for (int k = 0; k < digits; ++k) {
    char c = s[i + k];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  i += digits;
  return true;
}

bool Expect(std::string_view s, size_t& i, char c) {
  if (i >= s.size() || s[i] != c) return false;
  ++i;
  return true;
}

}  // namespace

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

ManualClock::ManualClock(WallTime start) : now_(start), mono_() {}

WallTime ManualClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

std::chrono::steady_clock::time_point ManualClock::MonotonicNow() const {
  std::lock_guard lock(mu_);
  return mono_;
}

void ManualClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  now_ += std::chrono::duration_cast<WallTime::duration>(d);
  mono_ += d;
}

void ManualClock::Set(WallTime t) {
  std::lock_guard lock(mu_);
  if (t > now_) mono_ += (t - now_);
  now_ = t;
}

WallTime FromUnixSeconds(double seconds) {
  return WallTime(std::chrono::round<WallTime::duration>(std::chrono::duration<double>(seconds)));
}

double ToUnixSeconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string FormatRfc3339(WallTime t) {
  auto ms = std::chrono::round<std::chrono::milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

Result<WallTime> ParseRfc3339(std::string_view s) {
  auto bad = [&] { return InvalidArgumentError("not an RFC 3339 time: '" + std::string(s) + "'"); };
  size_t i = 0;
  int y, mo, d, h, mi, se;
  if (!ReadInt(s, i, 4, y) || !Expect(s, i, '-') || !ReadInt(s, i, 2, mo) || !Expect(s, i, '-') ||
      !ReadInt(s, i, 2, d))
    return bad();
  if (i >= s.size() || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')) return bad();
  ++i;
  if (!ReadInt(s, i, 2, h) || !Expect(s, i, ':') || !ReadInt(s, i, 2, mi) || !Expect(s, i, ':') ||
      !ReadInt(s, i, 2, se))
    return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return bad();
  double frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    double scale = 0.1;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      frac += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return bad();
  }
  int offset_min = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int oh, om;
      if (!ReadInt(s, i, 2, oh) || !Expect(s, i, ':') || !ReadInt(s, i, 2, om)) return bad();
      offset_min = sign * (oh * 60 + om);
    } else {
      return bad();
    }
  }
  if (i != s.size()) return bad();
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
  return WallTime(std::chrono::seconds(secs)) +
         std::chrono::round<WallTime::duration>(std::chrono::duration<double>(frac));
}

}  // namespace strata
