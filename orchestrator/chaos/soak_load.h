// The soak's customer-event load (soak.h): a pool of real events (CDNOW purchases from
// ../shared/assets/retail/CDNOW_master.txt, their customers folded onto `customers` ids so the
// profile set saturates during the warm-up) and a driver that POSTs them as NDJSON batches to a
// segment service at a fixed rate, stamped "now" and with a fresh event id each, like `strata
// segment replay` does with a file.
// Thread-safety: a pool is read-only once loaded; one DriveSegment call per thread.
//
//   EventPool pool = LoadEventPool(assets, 1000, seed);
//   std::thread t([&] { DriveSegment(url, "shop-1", pool, 20, seed, stop, counters); });
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "strata/segment/event.h"

namespace strata::chaos {

struct EventPool {
  std::string source;  // the file, or "synthetic" when it could not be read
  std::vector<segment::Event> events;
};

// `assets` "" = $STRATA_ASSETS, else the build's ../shared/assets. Falls back to synthetic
// purchases (seeded) when the CDNOW file is missing.
EventPool LoadEventPool(const std::string& assets, int customers, uint64_t seed);

struct LoadCounters {
  std::atomic<int64_t> posted{0}, accepted{0}, errors{0};
};

// Posts `rate` events/s (batches every 500 ms) to <url>/api/v1/events until `stop`.
void DriveSegment(const std::string& url, const std::string& node, const EventPool& pool,
                  double rate, uint64_t seed, const std::atomic<bool>& stop, LoadCounters& c);

}  // namespace strata::chaos
