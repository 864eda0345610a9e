// The kill -9 target for strata-identify's gallery: one enrolment per message, POST
// /api/v1/gallery/chaos-<n> with a JPEG (LBPH, `faces: off`, `enrol_whole_image: true`, so no
// model files are needed and any image enrols as one template), with X-Strata-Message-Id
// chaos-<n>. 201 means the template and the message id are in gallery.db (one transaction); a
// resend of a committed id must answer 200 with "duplicate": true. The database check counts
// gallery_template rows per person (a second template is a duplicate: identify promises dedupe,
// so it fails the trial); the API check lists GET /api/v1/gallery.
#include "target.h"

#if STRATA_CHAOS_VISION
#include <opencv2/core.hpp>
#include <set>

#include "strata/vision/image_io.h"
#endif

namespace strata::chaos {

#if STRATA_CHAOS_VISION
namespace {

std::string PhotoJpeg() {
  cv::Mat img(64, 64, CV_8UC1);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      img.at<uint8_t>(y, x) = static_cast<uint8_t>((x * 7 + y * 3) % 256);
  auto jpeg = vision::EncodeJpeg(img, 90);
  return jpeg.ok() ? std::string(jpeg->begin(), jpeg->end()) : "";
}

class IdentifyTarget : public Target {
 public:
  IdentifyTarget() : jpeg_(PhotoJpeg()) {}
  std::string name() const override { return "identify"; }
  std::string ConfigYaml() const override {
    return "identify:\n  encoder: lbph\n  faces: off\n  enrol_whole_image: true\n";
  }
  std::string DbFile() const override { return "gallery.db"; }
  bool DedupePromised() const override { return true; }

  SendResult Send(http::HttpClient& client, const std::vector<std::string>& ids,
                  const std::vector<int>& numbers) const override {
    (void)numbers;
    SendResult out;
    auto r = client.Post("/api/v1/gallery/" + ids.at(0), jpeg_, "image/jpeg",
                         {{"X-Strata-Message-Id", ids.at(0)}});
    if (!r.ok()) {
      out.detail = r.status().message();
      return out;
    }
    out.detail = "HTTP " + std::to_string(r->status);
    auto j = r->Json();
    const bool dup = r->status == 200 && j.ok() && j->is_object() && j->value("duplicate", false);
    if (r->status == 201 || dup) {
      out.outcome = SendOutcome::kAcked;
      out.duplicate = dup;
    } else {
      out.outcome = SendOutcome::kRejected;
      out.detail += ": " + r->body.substr(0, 200);
    }
    return out;
  }

  Result<std::map<std::string, int64_t>> StoredIds(store::Database& db) const override {
    return CountsByKey(db,
                       "SELECT p.name, COUNT(t.id) FROM gallery_person p "
                       "JOIN gallery_template t ON t.person = p.name GROUP BY p.name");
  }

  Result<std::vector<std::string>> MissingFromApi(
      http::HttpClient& client, const std::map<std::string, std::string>& receipts) const override {
    std::set<std::string> listed;
    std::string after;
    for (int page = 0; page < 100; ++page) {  // bounded: 100 pages of 1000
      STRATA_ASSIGN_OR_RETURN(auto r, client.Get("/api/v1/gallery?limit=1000" +
                                                 (after.empty() ? "" : "&after=" + after)));
      if (r.status != 200)
        return UnavailableError("GET /api/v1/gallery: HTTP " + std::to_string(r.status));
      STRATA_ASSIGN_OR_RETURN(auto j, r.Json());
      for (const auto& p : j.value("people", nlohmann::json::array()))
        if (p.value("templates", 0) > 0) listed.insert(p.value("name", ""));
      if (!j.contains("next") || !j["next"].is_string()) break;
      after = j["next"].get<std::string>();
    }
    std::vector<std::string> missing;
    for (const auto& [id, receipt] : receipts)
      if (!listed.count(id)) missing.push_back(id);
    return missing;
  }

 private:
  std::string jpeg_;
};

}  // namespace

std::unique_ptr<Target> MakeIdentifyTarget() { return std::make_unique<IdentifyTarget>(); }
#else
std::unique_ptr<Target> MakeIdentifyTarget() { return nullptr; }
#endif

}  // namespace strata::chaos
