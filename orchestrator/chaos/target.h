// Target: what a kill -9 trial needs to know about one stateful service — how to send a numbered
// message, which SQLite file holds the messages and how to count them there, and how to read them
// back through the service's own API after the restart. One implementation per service
// (segment_target.cc, notify_target.cc, identify_target.cc); MakeTarget picks one by name.
// Thread-safety: Send may be called from several sender threads at once (each with its own
// client); everything else from the trial's thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "strata/core/rng.h"
#include "strata/core/status.h"
#include "strata/store/sqlite.h"
#include "strata/transport/http_client.h"

namespace strata::chaos {

// The outcome of one request carrying one or more message ids.
enum class SendOutcome {
  kAcked,     // 2xx with every id accepted
  kRejected,  // an HTTP answer that is not an ack (e.g. 503): not stored is allowed, not acked
  kNoAnswer,  // transport failure: the process died (or hung) with the request in flight
};

struct SendResult {
  SendOutcome outcome = SendOutcome::kNoAnswer;
  std::string detail;      // the status or error, for failure messages
  std::string receipt;     // what the ack returned (notify: the alert id), "" otherwise
  bool duplicate = false;  // the service said it had already answered this id
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  // "" = start without --config.
  virtual std::string ConfigYaml() const { return ""; }
  // The database file that must hold every acknowledged id, relative to the data dir.
  virtual std::string DbFile() const = 0;
  // True when the service promises to store a resent id once (notify: X-Strata-Message-Id).
  virtual bool DedupePromised() const = 0;
  // How many messages go in one request (segment batches NDJSON lines; others send one).
  virtual int BatchSize(Rng& rng) const {
    (void)rng;
    return 1;
  }
  // Messages per trial for a requested count: a batching target scales it up so that a trial
  // still spans about as many requests (and the kill lands mid-load as often) as the others.
  virtual int MessagesPerTrial(int requested) const { return requested; }
  // Sends messages `ids` (numbered `numbers`) in one request.
  virtual SendResult Send(http::HttpClient& client, const std::vector<std::string>& ids,
                          const std::vector<int>& numbers) const = 0;
  // id → stored copies, read from the (read-only) database.
  virtual Result<std::map<std::string, int64_t>> StoredIds(store::Database& db) const = 0;
  // Acked ids the restarted service does not return through its API. `receipts` maps an acked
  // id to its SendResult::receipt.
  virtual Result<std::vector<std::string>> MissingFromApi(
      http::HttpClient& client, const std::map<std::string, std::string>& receipts) const = 0;
};

// key → count from a query whose rows are (TEXT key, INTEGER count), e.g. "SELECT x, COUNT(*) ...
// GROUP BY x" — what most StoredIds implementations read.
Result<std::map<std::string, int64_t>> CountsByKey(store::Database& db, const std::string& sql);

// Message ids are "chaos-<number>" (number >= 1, unique within a trial's data dir).
std::string MessageId(int number);
int MessageNumber(const std::string& id);  // -1 when `id` is not a MessageId

struct ChaosOptions;
struct TrialResult;
// RunTrial with a given target (tests wrap a real target to check the checker).
TrialResult RunTrialWith(const Target& target, int trial, const ChaosOptions& options);

// "segment", or "notify" / "identify" (when built with vision); NotFound otherwise.
Result<std::unique_ptr<Target>> MakeTarget(const std::string& name);

std::unique_ptr<Target> MakeSegmentTarget();
std::unique_ptr<Target> MakeNotifyTarget();    // nullptr without STRATA_CHAOS_VISION
std::unique_ptr<Target> MakeIdentifyTarget();  // nullptr without STRATA_CHAOS_VISION

}  // namespace strata::chaos
