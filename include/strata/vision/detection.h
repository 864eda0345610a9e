// Detection and the detector post-processing toolkit: confidence/class filtering, greedy NMS,
// output decoders for YOLOX (ONNX) and darknet Region layers, and annotated-frame drawing.
// Everything here is a pure function of its inputs (thread-safe, no shared state), so each piece
// is unit-tested on hand-built tensors and against naive references.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "strata/core/status.h"

namespace strata::vision {

struct Detection {
  int class_id = 0;
  std::string label;
  float score = 0;
  cv::Rect2f box;       // pixels of the frame given to Detect (x, y, w, h), clipped to it
  cv::Rect2f box_norm;  // the same box normalised to 0..1 (x, y, w, h)
  int track_id = -1;    // set by IouTracker
};

// A decoded, not yet filtered candidate in frame pixels.
struct Candidate {
  cv::Rect2f box;
  int class_id = 0;
  float score = 0;
};

// Intersection over union; 0 when either box is empty.
float Iou(const cv::Rect2f& a, const cv::Rect2f& b);

// Greedy NMS: candidates with score > score_threshold, visited by score descending (ties: lower
// index first), each suppressing later ones whose IoU with it is > iou_threshold. Returns kept
// indices in visiting order — the same contract as cv::dnn::NMSBoxes.
std::vector<int> Nms(const std::vector<cv::Rect2f>& boxes, const std::vector<float>& scores,
                     float score_threshold, float iou_threshold);

// YOLOX head [1, N, 5 + C] (or [N, 5 + C]) from an input of size `input` letterboxed with ratio
// `ratio` (input = frame * ratio). N must equal sum over strides of (W/s)*(H/s).
// InvalidArgument when the tensor shape does not match the strides.
Result<std::vector<Candidate>> DecodeYolox(const cv::Mat& output, cv::Size input,
                                           const std::vector<int>& strides, double ratio,
                                           float score_threshold);
// Darknet Region outputs (OpenCV-decoded): rows [cx, cy, w, h normalised, obj, p_0..p_{C-1}].
Result<std::vector<Candidate>> DecodeDarknetRegion(const std::vector<cv::Mat>& outputs,
                                                   cv::Size frame, float score_threshold);

struct PostprocessOptions {
  float score_threshold = 0.3f;
  float nms_threshold = 0.45f;
  bool class_agnostic_nms = false;
  std::unordered_set<int> classes;  // class ids to keep; empty = all
};
// Class filter, per-class NMS, clipping to the frame, labels and normalised boxes.
std::vector<Detection> Postprocess(const std::vector<Candidate>& candidates,
                                   const std::vector<std::string>& labels, cv::Size frame,
                                   const PostprocessOptions& options);

// Draws boxes with "label score" (and "#track" when set) onto a BGR frame in place.
void DrawDetections(cv::Mat* frame, const std::vector<Detection>& detections);

}  // namespace strata::vision
