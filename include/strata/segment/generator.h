// Generator: synthetic customer event streams with known ground-truth segments and scheduled
// drift, for quality tests and demos (`strata segment generate`).
//
// Each segment is a behaviour (activity, basket size, return and browse rates, preferred hour,
// weekend share, favourite category and channel). Customers belong to one segment; events are
// drawn for random customers (weighted by activity) with a global clock advancing at
// events_per_day, so rare shoppers lapse naturally. With probability `noise` an event follows
// another segment's behaviour. Drift steps fire when `at_event` events have been emitted: grow
// (move a fraction of all customers into a segment), shrink (move a fraction of a segment's
// customers out), appear (activate a segment declared with share 0), move (change a segment's
// behaviour). Timestamps may go back up to a few days (weekend shopping): out-of-order on purpose.
// Deterministic for a given seed. Thread-safety: not thread-safe.
//
//   STRATA_ASSIGN_OR_RETURN(auto gen, Generator::Create({.customers = 2000, .seed = 3}));
//   Event e;
//   while (gen.Next(&e)) table.UpdateUnchecked(e);
//   const std::vector<int>& truth = gen.labels();  // per customer index; id = gen.CustomerId(i)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/core/clock.h"
#include "strata/core/rng.h"
#include "strata/core/status.h"
#include "strata/segment/event.h"

namespace strata::segment {

struct SegmentSpec {
  double share = 1.0;         // relative share of customers at start; 0 = inactive until "appear"
  double activity = 1.0;      // relative event rate per customer, > 0
  double basket_mean = 40.0;  // median purchase amount (log-normal)
  double basket_sigma = 0.35;
  double return_prob = 0.03;  // share of events that are returns
  double browse_prob = 0.2;   // share of events that are views/carts
  double peak_hour = 14.0;    // UTC
  double hour_spread = 2.0;
  double weekend_prob = 0.3;
  int category = 0;  // favourite category index (names "cat<i>")
  double category_loyalty = 0.8;
  int channel = 0;  // 0 online, 1 store, 2 other
  double channel_loyalty = 0.9;
};

// `k` (1..8) well-separated default behaviours.
std::vector<SegmentSpec> DefaultSegments(int k);

struct DriftStep {
  enum class Kind { kGrow, kShrink, kAppear, kMove };
  Kind kind = Kind::kMove;
  int64_t at_event = 0;
  int segment = 0;
  double fraction = 0.1;  // grow/appear: of all customers; shrink: of the segment's customers
  SegmentSpec behaviour;  // move: the new behaviour; appear: ignored (uses the declared spec)
};

class Generator {
 public:
  struct Config {
    int customers = 5000;
    int64_t events = 200000;
    std::vector<SegmentSpec> segments;  // empty: DefaultSegments(k)
    int k = 5;
    double noise = 0.05;           // [0, 1)
    double events_per_day = 2000;  // global event rate
    double start_unix_s = 1.7e9;   // 2023-11-14
    std::vector<DriftStep> drift;  // in any order
    uint64_t seed = 1;
  };
  // InvalidArgument naming the field (customers < 1, events < 0, bad segment/drift references).
  static Result<Generator> Create(const Config& config);

  // Writes the next event; false when `events` have been emitted.
  bool Next(Event* event);
  int64_t emitted() const { return emitted_; }
  WallTime now() const;
  int customers() const { return static_cast<int>(labels_.size()); }
  std::string CustomerId(int index) const;
  // Current ground-truth segment per customer index.
  const std::vector<int>& labels() const { return labels_; }
  const std::vector<SegmentSpec>& segments() const { return specs_; }
  const Config& config() const { return config_; }

 private:
  explicit Generator(const Config& config);
  void ApplyDrift(const DriftStep& step);
  int RandomActiveSegment(int except);

  Config config_;
  Rng rng_;
  std::vector<SegmentSpec> specs_;
  std::vector<bool> active_;
  std::vector<int> labels_;
  double max_activity_ = 1;
  double t_days_ = 0;
  int64_t emitted_ = 0;
  size_t next_drift_ = 0;
};

}  // namespace strata::segment
