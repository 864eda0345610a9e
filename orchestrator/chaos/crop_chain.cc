// CropChain (crop_chain.h): strata-notify ← link proxy ← strata-identify, a crop sender, and the
// alert count read from notify.db.
#include "crop_chain.h"

#include <filesystem>

#include "chaos.h"
#include "strata/store/sqlite.h"
#include "strata/transport/http_client.h"

#if STRATA_CHAOS_VISION
#include <opencv2/core.hpp>

#include "strata/vision/image_io.h"
#endif

namespace strata::chaos {
namespace {

using std::chrono::milliseconds;
constexpr char kCamera[] = "chaos";

std::string CropJpeg() {
#if STRATA_CHAOS_VISION
  cv::Mat img(48, 64, CV_8UC3);
  for (int y = 0; y < img.rows; ++y) img.row(y).setTo(cv::Scalar(y * 4, 128, 255 - y * 4));
  auto jpeg = vision::EncodeJpeg(img, 90);
  return jpeg.ok() ? std::string(jpeg->begin(), jpeg->end()) : "";
#else
  return "";
#endif
}

}  // namespace

Result<std::unique_ptr<CropChain>> CropChain::Start(const ChaosOptions& o, const std::string& dir,
                                                    uint64_t seed) {
  std::unique_ptr<CropChain> c(new CropChain());
  c->dir_ = dir;
  c->jpeg_ = CropJpeg();
  if (c->jpeg_.empty()) return UnavailableError("the crop chain needs strata_vision (JPEG crops)");
  c->notify_db_ = dir + "/notify/notify.db";
  STRATA_ASSIGN_OR_RETURN(
      c->notify_, StartService(o, "notify", dir + "/notify", "notify:\n  alert_on_person: true\n"));
  STRATA_ASSIGN_OR_RETURN(c->proxy_, link::LinkProxy::Start({.name = "identify_notify",
                                                             .upstream_host = "127.0.0.1",
                                                             .upstream_port = c->notify_->port,
                                                             .seed = seed}));
  STRATA_ASSIGN_OR_RETURN(
      c->identify_,
      StartService(o, "identify", dir + "/identify",
                   "identify:\n  encoder: lbph\n  faces: off\n  notify_url: http://127.0.0.1:" +
                       std::to_string(c->proxy_->port()) + "\n  notify_spool_dir: spool\n"));
  return c;
}

CropChain::~CropChain() {
  stop_ = true;
  if (sender_.joinable()) sender_.join();
}

void CropChain::StartSending(int n, milliseconds pace) {
  {
    std::lock_guard lock(mu_);
    state_.assign(n, 0);
  }
  sender_ = std::thread([this, n, pace] { SendLoop(n, pace); });
}

void CropChain::SendLoop(int n, milliseconds pace) {
  auto client = http::HttpClient::Create({.base_url = identify_->url(),
                                          .connect_timeout = milliseconds(2000),
                                          .read_timeout = milliseconds(10000),
                                          .max_retries = 0});
  for (int i = 1; i <= n && !stop_; ++i) {
    int outcome = 3;
    if (client.ok()) {
      auto r = (*client)->Post("/api/v1/faces", jpeg_, "image/jpeg",
                               {{"X-Strata-Camera", kCamera},
                                {"X-Strata-Track-Id", std::to_string(i)},
                                {"X-Strata-Kind", "person"},
                                {"X-Strata-Frame-Id", "f" + std::to_string(i)}});
      if (r.ok()) outcome = r->status == 200 ? 1 : 2;
    }
    {
      std::lock_guard lock(mu_);
      state_[i - 1] = outcome;
    }
    answered_ = i;
    std::this_thread::sleep_for(pace);
  }
}

void CropChain::WaitAnswered(int n, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (answered_ < n && Clock::now() < deadline && !stop_)
    std::this_thread::sleep_for(milliseconds(5));
}

void CropChain::JoinSender() {
  if (sender_.joinable()) sender_.join();
}

void CropChain::AddFailures(const Tally& tally, FaultTrial* t) {
  if (!tally.crashed.empty()) t->failures.push_back(tally.crashed + " exited during the trial");
  if (!tally.stop_error.empty()) t->failures.push_back(tally.stop_error);
  if (tally.lost > 0) {
    std::string ids;
    for (const auto& id : tally.lost_ids) ids += (ids.empty() ? "" : ", ") + id;
    t->failures.push_back(std::to_string(tally.lost) + " acknowledged crop(s) without an alert [" +
                         ids + "]");
  }
  if (tally.duplicates > 0)
    t->failures.push_back(std::to_string(tally.duplicates) + " crop(s) alerted twice");
  if (tally.acked == 0) t->failures.push_back("identify acknowledged no crop");
}

std::map<int64_t, int64_t> ChaosAlertsPerTrack(const std::string& notify_db) {
  std::map<int64_t, int64_t> out;
  auto db = store::Database::Open(notify_db, {.create = false, .read_only = true});
  if (!db.ok()) return out;
  auto st = (*db)->Prepare(
      "SELECT track_id, COUNT(*) FROM alerts WHERE camera = 'chaos' GROUP BY track_id");
  if (!st.ok()) return out;
  while (true) {
    auto row = st->Step();
    if (!row.ok() || !*row) break;
    out[st->ColumnInt(0)] = st->ColumnInt(1);
  }
  return out;
}

std::optional<CropChain::Clock::time_point> CropChain::WaitDelivered(int upto,
                                                                     milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::vector<int> acked;
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < state_.size() && static_cast<int>(i) < upto; ++i)
        if (state_[i] == 1) acked.push_back(static_cast<int>(i) + 1);
    }
    const auto now = Clock::now();
    auto alerts = ChaosAlertsPerTrack(notify_db_);
    bool all = true;
    for (int i : acked) all = all && alerts.count(i);
    if (all) return now;
    std::this_thread::sleep_for(milliseconds(25));
  }
  return std::nullopt;
}

CropChain::Tally CropChain::Finish() {
  stop_ = true;
  JoinSender();
  Tally t;
  for (auto* s : {identify_.get(), notify_.get()})
    if (!s->Alive())
      t.crashed += (t.crashed.empty() ? "" : ", ") +
                   std::string(s == identify_.get() ? "strata-identify" : "strata-notify");
  if (!identify_->Stop()) t.stop_error = "strata-identify did not stop on SIGTERM in 10 s";
  proxy_->Stop();
  if (!notify_->Stop() && t.stop_error.empty())
    t.stop_error = "strata-notify did not stop on SIGTERM in 10 s";
  auto alerts = ChaosAlertsPerTrack(notify_db_);
  std::lock_guard lock(mu_);
  t.crops = static_cast<int64_t>(state_.size());
  for (size_t i = 0; i < state_.size(); ++i) {
    const int64_t track = static_cast<int64_t>(i) + 1;
    auto it = alerts.find(track);
    const int64_t copies = it == alerts.end() ? 0 : it->second;
    if (copies > 1) t.duplicates += copies - 1;
    switch (state_[i]) {
      case 1:
        ++t.acked;
        if (copies > 0) {
          ++t.delivered;
        } else {
          ++t.lost;
          if (t.lost_ids.size() < 8) t.lost_ids.push_back("track " + std::to_string(track));
        }
        break;
      case 2:
        ++t.rejected;
        t.unacked_delivered += copies > 0;
        break;
      case 3:
        ++t.no_answer;
        t.unacked_delivered += copies > 0;
        break;
      default:
        break;
    }
  }
  return t;
}

}  // namespace strata::chaos
