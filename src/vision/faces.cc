#include "strata/vision/faces.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "strata/vision/detector.h"
#include "strata/vision/model_manifest.h"

namespace strata::vision {

FaceDetector::FaceDetector(FaceDetector&&) noexcept = default;
FaceDetector& FaceDetector::operator=(FaceDetector&&) noexcept = default;
FaceDetector::~FaceDetector() = default;

namespace {

Status LoadYunet(const FaceDetectorConfig& c, cv::Ptr<cv::FaceDetectorYN>* out, float* thr) {
  std::string path = c.manifest.empty() ? "configs/models/yunet.yaml" : c.manifest;
  STRATA_ASSIGN_OR_RETURN(ModelManifest m, LoadModelManifest(path));
  if (m.kind != "face_detector" || m.decoder != "yunet") {
    return InvalidArgumentError(path + ": not a yunet face_detector manifest");
  }
  STRATA_ASSIGN_OR_RETURN(std::string model,
                          m.Resolve(m.model_file, ModelSearchPath(c.model_dirs)));
  *thr = static_cast<float>(c.score_threshold < 0 ? m.score_threshold : c.score_threshold);
  try {
    *out = cv::FaceDetectorYN::create(model, "", cv::Size(m.input.width, m.input.height), *thr,
                                      static_cast<float>(m.nms_threshold), 5000);
  } catch (const cv::Exception& e) {
    return InvalidArgumentError("cannot load yunet model '" + model + "': " + e.err);
  }
  if (!*out) return InvalidArgumentError("cannot load yunet model '" + model + "'");
  return Status::Ok();
}

}  // namespace

Result<FaceDetector> FaceDetector::Create(const Config& c) {
  if (c.backend != "auto" && c.backend != "yunet" && c.backend != "haar") {
    return InvalidArgumentError("face_detector.backend: expected auto, yunet or haar, got '" +
                                c.backend + "'");
  }
  if (c.score_threshold > 1) return InvalidArgumentError("face_detector.score_threshold: <= 1");
  if (c.min_face_size < 1) return InvalidArgumentError("face_detector.min_face_size: must be >= 1");
  FaceDetector fd;
  fd.config_ = c;
  if (c.backend != "haar") {
    Status s = LoadYunet(c, &fd.yunet_, &fd.score_threshold_);
    if (s.ok()) {
      fd.backend_ = "yunet";
      return fd;
    }
    if (c.backend == "yunet" || s.code() != StatusCode::kNotFound) return s;
  }
  if (!std::filesystem::exists(c.haar_cascade)) {
    return NotFoundError("face_detector.haar_cascade: '" + c.haar_cascade +
                         "' does not exist (install Debian opencv-data)");
  }
  fd.haar_ = std::make_unique<cv::CascadeClassifier>();
  if (!fd.haar_->load(c.haar_cascade)) {
    return InvalidArgumentError("face_detector.haar_cascade: cannot load '" + c.haar_cascade + "'");
  }
  fd.backend_ = "haar";
  return fd;
}

Result<std::vector<Face>> FaceDetector::Detect(const cv::Mat& bgr) {
  STRATA_RETURN_IF_ERROR(CheckFrame(bgr, "face_detector"));
  std::vector<Face> faces;
  try {
    if (yunet_) {
      yunet_->setInputSize(bgr.size());
      cv::Mat out;
      yunet_->detect(bgr, out);
      for (int i = 0; i < out.rows; ++i) {
        const float* r = out.ptr<float>(i);
        Face f;
        f.box = cv::Rect2f(r[0], r[1], r[2], r[3]);
        f.score = r[14];
        f.has_landmarks = true;
        for (int k = 0; k < 5; ++k) f.landmarks[k] = cv::Point2f(r[4 + 2 * k], r[5 + 2 * k]);
        if (std::min(f.box.width, f.box.height) >= config_.min_face_size) faces.push_back(f);
      }
    } else {
      cv::Mat gray;
      cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
      cv::equalizeHist(gray, gray);
      std::vector<cv::Rect> rects;
      std::vector<int> levels;
      std::vector<double> weights;
      haar_->detectMultiScale(gray, rects, levels, weights, 1.1, 4, 0,
                              cv::Size(config_.min_face_size, config_.min_face_size), cv::Size(),
                              true);
      for (size_t i = 0; i < rects.size(); ++i) {
        Face f;
        f.box = cv::Rect2f(rects[i]);
        // The cascade's stage margin; map it to (0, 1) so it reads like a score.
        f.score = static_cast<float>(1.0 / (1.0 + std::exp(-weights[i])));
        faces.push_back(f);
      }
    }
  } catch (const cv::Exception& e) {
    return InternalError("face_detector(" + backend_ + "): OpenCV: " + e.what());
  }
  std::stable_sort(faces.begin(), faces.end(),
                   [](const Face& a, const Face& b) { return a.score > b.score; });
  return faces;
}

std::vector<PersonCrop> CropPersons(const cv::Mat& frame, const std::vector<Detection>& persons,
                                    float margin) {
  std::vector<PersonCrop> crops;
  const cv::Rect bounds(0, 0, frame.cols, frame.rows);
  for (int i = 0; i < static_cast<int>(persons.size()); ++i) {
    const cv::Rect2f& b = persons[i].box;
    float mx = b.width * margin, my = b.height * margin;
    cv::Rect r(cvFloor(b.x - mx), cvFloor(b.y - my), cvCeil(b.width + 2 * mx),
               cvCeil(b.height + 2 * my));
    r &= bounds;
    if (r.area() <= 0) continue;
    crops.push_back({i, r, frame(r)});
  }
  return crops;
}

namespace {

// How far a face sits from where a head is in its person box: horizontal distance from the box
// centre, in box widths (the head of the person a box was drawn around is near its centre line).
float OffCentre(const cv::Rect2f& face, const cv::Rect2f& person) {
  float cx = face.x + face.width / 2, pcx = person.x + person.width / 2;
  return std::abs(cx - pcx) / std::max(1.f, person.width);
}

}  // namespace

Result<std::vector<PersonFace>> DetectFacesInPersons(FaceDetector& detector, const cv::Mat& frame,
                                                     const std::vector<Detection>& persons,
                                                     float margin) {
  std::vector<PersonFace> out;
  for (const PersonCrop& crop : CropPersons(frame, persons, margin)) {
    if (crop.rect.width < 8 || crop.rect.height < 8) continue;
    STRATA_ASSIGN_OR_RETURN(std::vector<Face> faces, detector.Detect(crop.image));
    if (faces.empty()) continue;
    cv::Point2f off(static_cast<float>(crop.rect.x), static_cast<float>(crop.rect.y));
    for (Face& f : faces) {
      f.box.x += off.x;
      f.box.y += off.y;
      for (cv::Point2f& p : f.landmarks) p += off;
    }
    // A box may hold several faces (people close together, a wide box): take the most central one,
    // not the highest-scoring one, which may be a neighbour's.
    const cv::Rect2f& person = persons[crop.detection_index].box;
    const Face* best = &faces.front();
    for (const Face& f : faces)
      if (OffCentre(f.box, person) < OffCentre(best->box, person)) best = &f;
    out.push_back({crop.detection_index, *best});
  }
  // One face belongs to one person: when two persons got the same face, the one it is most
  // central in keeps it.
  std::vector<bool> drop(out.size(), false);
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = i + 1; j < out.size(); ++j) {
      if (drop[i] || drop[j] || Iou(out[i].face.box, out[j].face.box) < 0.5f) continue;
      float oi = OffCentre(out[i].face.box, persons[out[i].detection_index].box);
      float oj = OffCentre(out[j].face.box, persons[out[j].detection_index].box);
      drop[oi <= oj ? j : i] = true;
    }
  std::vector<PersonFace> kept;
  for (size_t i = 0; i < out.size(); ++i)
    if (!drop[i]) kept.push_back(out[i]);
  return kept;
}

Result<FaceQuality> MeasureFaceQuality(const cv::Mat& image, const Face& face) {
  cv::Rect r = cv::Rect(face.box) & cv::Rect(0, 0, image.cols, image.rows);
  if (image.empty() || r.area() <= 0) {
    return InvalidArgumentError("face quality: the face box does not overlap the image");
  }
  FaceQuality q;
  q.height = face.box.height;
  q.score = face.score;
  try {
    cv::Mat gray, small, lap;
    if (image.channels() == 3) {
      cv::cvtColor(image(r), gray, cv::COLOR_BGR2GRAY);
    } else {
      gray = image(r);
    }
    int w = std::max(1, r.width * 64 / std::max(1, r.height));
    cv::resize(gray, small, cv::Size(w, 64), 0, 0, cv::INTER_AREA);
    cv::Laplacian(small, lap, CV_32F);
    cv::Scalar mean, stddev;
    cv::meanStdDev(lap, mean, stddev);
    q.sharpness = stddev[0] * stddev[0];
  } catch (const cv::Exception& e) {
    return InternalError(std::string("face quality: OpenCV: ") + e.what());
  }
  return q;
}

bool PassesGate(const FaceQuality& q, const FaceQualityGate& gate) {
  return q.height >= gate.min_height && q.sharpness >= gate.min_sharpness;
}

}  // namespace strata::vision
