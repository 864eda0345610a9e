// The kill -9 target for strata-notify: one sighting per message on POST /api/v1/sightings (an
// unknown face on its own track, so each opens a new alert) with X-Strata-Message-Id. Notify
// commits the message id, the alert row and the outbox rows in one transaction and fsyncs the
// snapshot before the 200 (docs/services/notify.md). The database check joins `messages` with
// `alerts` (copies = alert rows of the message's track); the API check reads every acknowledged
// alert and its snapshot back (GET /api/v1/events/{id} and .../snapshot.jpg).
#include "target.h"

#if STRATA_CHAOS_VISION
#include <opencv2/core.hpp>

#include "strata/vision/image_io.h"
#endif

namespace strata::chaos {

#if STRATA_CHAOS_VISION
namespace {

std::string CropJpeg() {
  cv::Mat img(48, 64, CV_8UC3);
  for (int y = 0; y < img.rows; ++y) img.row(y).setTo(cv::Scalar(y * 4, 128, 255 - y * 4));
  auto jpeg = vision::EncodeJpeg(img, 90);
  return jpeg.ok() ? std::string(jpeg->begin(), jpeg->end()) : "";
}

class NotifyTarget : public Target {
 public:
  NotifyTarget() : jpeg_(CropJpeg()) {}
  std::string name() const override { return "notify"; }
  std::string DbFile() const override { return "notify.db"; }
  bool DedupePromised() const override { return true; }

  SendResult Send(http::HttpClient& client, const std::vector<std::string>& ids,
                  const std::vector<int>& numbers) const override {
    SendResult out;
    auto r = client.Post("/api/v1/sightings", jpeg_, "image/jpeg",
                         {{"X-Strata-Camera", "chaos"},
                          {"X-Strata-Track-Id", std::to_string(numbers.at(0))},
                          {"X-Strata-Kind", "face"},
                          {"X-Strata-Identity-Status", "unknown"},
                          {"X-Strata-Score", "0.9"},
                          {"X-Strata-Message-Id", ids.at(0)}});
    if (!r.ok()) {
      out.detail = r.status().message();
      return out;
    }
    out.detail = "HTTP " + std::to_string(r->status);
    auto j = r->Json();
    if (r->status == 200 && j.ok() && j->contains("alert_id") && (*j)["alert_id"].is_string()) {
      out.outcome = SendOutcome::kAcked;
      out.receipt = (*j)["alert_id"].get<std::string>();
      out.duplicate = j->value("duplicate", false);
    } else {
      out.outcome = SendOutcome::kRejected;
      out.detail += ": " + r->body.substr(0, 200);
    }
    return out;
  }

  Result<std::map<std::string, int64_t>> StoredIds(store::Database& db) const override {
    std::map<int64_t, int64_t> alerts_per_track;
    {
      STRATA_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT track_id, COUNT(*) FROM alerts "
                                                  "WHERE camera = 'chaos' GROUP BY track_id"));
      while (true) {
        STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        alerts_per_track[st.ColumnInt(0)] = st.ColumnInt(1);
      }
    }
    std::map<std::string, int64_t> out;
    STRATA_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT id FROM messages"));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      const std::string id = st.ColumnText(0);
      auto it = alerts_per_track.find(MessageNumber(id));
      // A recorded id without its alert row is not stored (they share one transaction).
      if (it != alerts_per_track.end()) out[id] = it->second;
    }
    return out;
  }

  Result<std::vector<std::string>> MissingFromApi(
      http::HttpClient& client, const std::map<std::string, std::string>& receipts) const override {
    std::vector<std::string> missing;
    for (const auto& [id, alert_id] : receipts) {
      STRATA_ASSIGN_OR_RETURN(auto alert, client.Get("/api/v1/events/" + alert_id));
      STRATA_ASSIGN_OR_RETURN(auto snap, client.Get("/api/v1/events/" + alert_id + "/snapshot.jpg"));
      if (alert.status != 200 || snap.status != 200 || snap.body.empty())
        missing.push_back(id + " (alert " + alert_id + ": HTTP " + std::to_string(alert.status) +
                          ", snapshot HTTP " + std::to_string(snap.status) + ")");
    }
    return missing;
  }

 private:
  std::string jpeg_;
};

}  // namespace

std::unique_ptr<Target> MakeNotifyTarget() { return std::make_unique<NotifyTarget>(); }
#else
std::unique_ptr<Target> MakeNotifyTarget() { return nullptr; }
#endif

}  // namespace strata::chaos
