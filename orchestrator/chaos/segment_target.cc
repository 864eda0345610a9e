// The kill -9 target for strata-segment: numbered customer events as NDJSON batches of 1..4 lines
// on POST /api/v1/events (acknowledged only after the SQLite commit, docs/services/segment.md).
// The message id travels as the event `id` (the service stores one event per id) and in `product`;
// the database check counts seg_events rows per product; the API check asks
// GET /api/v1/customers/{id} for every customer with an acknowledged event (404 = the restart lost
// it from the profiles).
#include "target.h"

namespace strata::chaos {
namespace {

class SegmentTarget : public Target {
 public:
  std::string name() const override { return "segment"; }
  std::string DbFile() const override { return "segment_profiles.db"; }
  // seg_events.event_id is UNIQUE: a resent event whose first copy was committed but not
  // acknowledged must be answered as a duplicate and stored once (a second copy fails the trial).
  bool DedupePromised() const override { return true; }
  int BatchSize(Rng& rng) const override { return static_cast<int>(rng.UniformInt(1, 4)); }
  int MessagesPerTrial(int requested) const override { return requested * 4; }

  static std::string Customer(int number) { return "chaos-c" + std::to_string(number % 8); }

  SendResult Send(http::HttpClient& client, const std::vector<std::string>& ids,
                  const std::vector<int>& numbers) const override {
    std::string body;
    for (size_t i = 0; i < ids.size(); ++i) {
      nlohmann::json e = {{"customer_id", Customer(numbers[i])},
                          {"ts", 1700000000 + numbers[i]},
                          {"type", "purchase"},
                          {"amount", 1.0 + numbers[i] % 50},
                          {"quantity", 1},
                          {"product", ids[i]},
                          {"id", ids[i]}};
      body += e.dump() + "\n";
    }
    SendResult out;
    auto r = client.Post("/api/v1/events", body, "application/x-ndjson");
    if (!r.ok()) {
      out.detail = r.status().message();
      return out;
    }
    out.detail = "HTTP " + std::to_string(r->status);
    auto j = r->Json();
    if (r->status == 200 && j.ok() && j->value("accepted", int64_t{-1}) == int64_t(ids.size())) {
      out.outcome = SendOutcome::kAcked;
      // Every id of the request was already stored (the trial resends one id per request).
      out.duplicate = j->value("duplicates", int64_t{0}) == int64_t(ids.size());
    } else {
      out.outcome = SendOutcome::kRejected;
      out.detail += ": " + r->body.substr(0, 200);
    }
    return out;
  }

  Result<std::map<std::string, int64_t>> StoredIds(store::Database& db) const override {
    return CountsByKey(db, "SELECT product, COUNT(*) FROM seg_events GROUP BY product");
  }

  Result<std::vector<std::string>> MissingFromApi(
      http::HttpClient& client, const std::map<std::string, std::string>& receipts) const override {
    // Each acked event's customer must be known after the restart (200, or 422 while the model is
    // still seeding); 404 means the profiles lost it.
    std::map<std::string, std::vector<std::string>> by_customer;
    for (const auto& [id, receipt] : receipts) {
      (void)receipt;
      by_customer[Customer(MessageNumber(id))].push_back(id);
    }
    std::vector<std::string> missing;
    for (const auto& [customer, ids] : by_customer) {
      STRATA_ASSIGN_OR_RETURN(auto r, client.Get("/api/v1/customers/" + customer));
      if (r.status == 404)
        missing.insert(missing.end(), ids.begin(), ids.end());
      else if (r.status != 200 && r.status != 422)
        return UnavailableError("GET /api/v1/customers/" + customer + ": HTTP " +
                                std::to_string(r.status));
    }
    return missing;
  }
};

}  // namespace

std::unique_ptr<Target> MakeSegmentTarget() { return std::make_unique<SegmentTarget>(); }

}  // namespace strata::chaos
