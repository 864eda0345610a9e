// Person crops and face detection inside them.
//   FaceDetector backends: "yunet" (cv::FaceDetectorYN + manifest configs/models/yunet.yaml; gives
//   5 landmarks for alignment) and "haar" (Debian opencv-data frontal-face cascade; embedded
//   default, boxes only). "auto" picks yunet when its model file is found, else haar.
// Thread-safety: FaceDetector is NOT thread-safe (one per worker); the free functions are.
//
//   STRATA_ASSIGN_OR_RETURN(auto faces, FaceDetector::Create(FaceDetectorConfig()));
//   for (const PersonCrop& p : CropPersons(frame, people, 0.1f)) {
//     STRATA_ASSIGN_OR_RETURN(std::vector<Face> f, faces.Detect(p.image));
//   }
#pragma once

#include <array>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/vision/detection.h"

namespace cv {
class CascadeClassifier;
class FaceDetectorYN;
}  // namespace cv

namespace strata::vision {

struct Face {
  cv::Rect2f box;  // pixels of the image given to Detect
  float score = 0;
  bool has_landmarks = false;
  // right eye, left eye, nose tip, right mouth corner, left mouth corner (image-x order, as YuNet)
  std::array<cv::Point2f, 5> landmarks{};
};

struct FaceDetectorConfig {
  std::string backend = "auto";  // "auto" | "yunet" | "haar"
  std::string manifest;          // yunet manifest; "" = configs/models/yunet.yaml under cwd
  std::vector<std::string> model_dirs;
  std::string haar_cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
  double score_threshold = -1;  // < 0: manifest's (yunet)
  int min_face_size = 20;       // px; smaller faces are dropped
};

class FaceDetector {
 public:
  using Config = FaceDetectorConfig;
  // NotFound when the chosen backend's file is missing ("auto" falls back to haar), InvalidArgument
  // for a bad setting.
  static Result<FaceDetector> Create(const Config& config);
  FaceDetector(FaceDetector&&) noexcept;
  FaceDetector& operator=(FaceDetector&&) noexcept;
  ~FaceDetector();

  // Faces in an 8-bit BGR image, best first. InvalidArgument for an empty/non-BGR image.
  Result<std::vector<Face>> Detect(const cv::Mat& bgr);
  const std::string& backend() const { return backend_; }

 private:
  FaceDetector() = default;
  std::string backend_;
  Config config_;
  float score_threshold_ = 0;
  cv::Ptr<cv::FaceDetectorYN> yunet_;
  std::unique_ptr<cv::CascadeClassifier> haar_;
};

struct PersonCrop {
  int detection_index = 0;
  cv::Rect rect;  // in frame pixels (after margin and clipping)
  cv::Mat image;  // a view into the frame (clone it to keep it past the frame's lifetime)
};

// One crop per detection, grown by `margin` (fraction of the box size) and clipped to the frame;
// empty boxes are skipped.
std::vector<PersonCrop> CropPersons(const cv::Mat& frame, const std::vector<Detection>& persons,
                                    float margin = 0.1f);

struct PersonFace {
  int detection_index = 0;
  Face face;  // in FRAME pixels
};
// Runs `detector` inside every person crop, maps faces back to frame coordinates and keeps, per
// person, the face nearest the box's centre line (a wide box may hold a neighbour's face too). A
// face found in two boxes (IoU >= 0.5) goes only to the person it is most central in.
Result<std::vector<PersonFace>> DetectFacesInPersons(FaceDetector& detector, const cv::Mat& frame,
                                                     const std::vector<Detection>& persons,
                                                     float margin = 0.1f);

// Crop quality, for keeping the best k face crops per track and refusing poor enrolment photos.
struct FaceQuality {
  float height = 0;      // face box height in pixels
  double sharpness = 0;  // variance of the Laplacian of the grey face resized to 64 px high
  float score = 0;       // detector score
};
struct FaceQualityGate {
  float min_height = 64;      // surveillance-anchors §5.2: smaller crops poison recognition
  double min_sharpness = 20;  // blurred crops score lower; 0 disables
};
// InvalidArgument when the face box does not overlap the image.
Result<FaceQuality> MeasureFaceQuality(const cv::Mat& image, const Face& face);
bool PassesGate(const FaceQuality& q, const FaceQualityGate& gate);

}  // namespace strata::vision
