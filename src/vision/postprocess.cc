#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "strata/vision/detection.h"

namespace strata::vision {

float Iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  if (inter <= 0) return 0.0f;
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

std::vector<int> Nms(const std::vector<cv::Rect2f>& boxes, const std::vector<float>& scores,
                     float score_threshold, float iou_threshold) {
  std::vector<int> order;
  for (int i = 0; i < static_cast<int>(scores.size()); ++i) {
    if (scores[i] > score_threshold) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  std::vector<int> keep;
  std::vector<char> suppressed(order.size(), 0);
  for (size_t i = 0; i < order.size(); ++i) {
    if (suppressed[i]) continue;
    keep.push_back(order[i]);
    const cv::Rect2f& bi = boxes[order[i]];
    for (size_t j = i + 1; j < order.size(); ++j) {
      if (!suppressed[j] && Iou(bi, boxes[order[j]]) > iou_threshold) suppressed[j] = 1;
    }
  }
  return keep;
}

Result<std::vector<Candidate>> DecodeYolox(const cv::Mat& output, cv::Size input,
                                           const std::vector<int>& strides, double ratio,
                                           float score_threshold) {
  if (output.type() != CV_32F) return InvalidArgumentError("yolox: output must be float32");
  int rows = 0, cols = 0;
  if (output.dims == 3 && output.size[0] == 1) {
    rows = output.size[1];
    cols = output.size[2];
  } else if (output.dims == 2) {
    rows = output.rows;
    cols = output.cols;
  } else {
    return InvalidArgumentError("yolox: expected an output of shape [1, N, 5+C]");
  }
  int expected = 0;
  for (int s : strides) expected += (input.width / s) * (input.height / s);
  if (rows != expected || cols < 6) {
    return InvalidArgumentError("yolox: output has " + std::to_string(rows) + "x" +
                                std::to_string(cols) + " values, expected " +
                                std::to_string(expected) + " rows of >= 6 for input " +
                                std::to_string(input.width) + "x" + std::to_string(input.height));
  }
  if (!(ratio > 0)) return InvalidArgumentError("yolox: letterbox ratio must be > 0");
  const float* data = reinterpret_cast<const float*>(output.data);
  std::vector<Candidate> out;
  int row = 0;
  for (int s : strides) {
    int gw = input.width / s, gh = input.height / s;
    for (int gy = 0; gy < gh; ++gy) {
      for (int gx = 0; gx < gw; ++gx, ++row) {
        const float* r = data + static_cast<size_t>(row) * cols;
        float obj = r[4];
        if (obj <= score_threshold) continue;  // score = obj * cls <= obj
        int best = 0;
        for (int c = 1; c < cols - 5; ++c) {
          if (r[5 + c] > r[5 + best]) best = c;
        }
        float score = obj * r[5 + best];
        if (score <= score_threshold) continue;
        float cx = (r[0] + gx) * s, cy = (r[1] + gy) * s;
        float w = std::exp(r[2]) * s, h = std::exp(r[3]) * s;
        float inv = static_cast<float>(1.0 / ratio);
        out.push_back(
            {cv::Rect2f((cx - w / 2) * inv, (cy - h / 2) * inv, w * inv, h * inv), best, score});
      }
    }
  }
  return out;
}

Result<std::vector<Candidate>> DecodeDarknetRegion(const std::vector<cv::Mat>& outputs,
                                                   cv::Size frame, float score_threshold) {
  std::vector<Candidate> out;
  for (const cv::Mat& o : outputs) {
    if (o.type() != CV_32F || o.dims != 2 || o.cols < 6) {
      return InvalidArgumentError("darknet_region: expected float [N, 5+C] outputs");
    }
    for (int i = 0; i < o.rows; ++i) {
      const float* r = o.ptr<float>(i);
      int best = 0;
      for (int c = 1; c < o.cols - 5; ++c) {
        if (r[5 + c] > r[5 + best]) best = c;
      }
      float score = r[5 + best];
      if (score <= score_threshold) continue;
      float w = r[2] * frame.width, h = r[3] * frame.height;
      out.push_back(
          {cv::Rect2f(r[0] * frame.width - w / 2, r[1] * frame.height - h / 2, w, h), best, score});
    }
  }
  return out;
}

std::vector<Detection> Postprocess(const std::vector<Candidate>& candidates,
                                   const std::vector<std::string>& labels, cv::Size frame,
                                   const PostprocessOptions& options) {
  // Group by class (or one group when class-agnostic), NMS within each group.
  std::map<int, std::vector<int>> groups;
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    const Candidate& c = candidates[i];
    if (!options.classes.empty() && !options.classes.count(c.class_id)) continue;
    groups[options.class_agnostic_nms ? 0 : c.class_id].push_back(i);
  }
  const cv::Rect2f bounds(0, 0, static_cast<float>(frame.width), static_cast<float>(frame.height));
  std::vector<Detection> out;
  for (const auto& [cls, idx] : groups) {
    std::vector<cv::Rect2f> boxes;
    std::vector<float> scores;
    for (int i : idx) {
      boxes.push_back(candidates[i].box);
      scores.push_back(candidates[i].score);
    }
    for (int k : Nms(boxes, scores, options.score_threshold, options.nms_threshold)) {
      const Candidate& c = candidates[idx[k]];
      Detection d;
      d.class_id = c.class_id;
      d.label = c.class_id >= 0 && c.class_id < static_cast<int>(labels.size())
                    ? labels[c.class_id]
                    : std::to_string(c.class_id);
      d.score = c.score;
      d.box = c.box & bounds;
      if (d.box.area() <= 0) continue;
      d.box_norm = cv::Rect2f(d.box.x / frame.width, d.box.y / frame.height,
                              d.box.width / frame.width, d.box.height / frame.height);
      out.push_back(std::move(d));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return out;
}

void DrawDetections(cv::Mat* frame, const std::vector<Detection>& detections) {
  for (const Detection& d : detections) {
    cv::Scalar color = d.class_id == 0 ? cv::Scalar(0, 200, 0) : cv::Scalar(0, 160, 255);
    cv::Rect r(cvRound(d.box.x), cvRound(d.box.y), cvRound(d.box.width), cvRound(d.box.height));
    cv::rectangle(*frame, r, color, 2);
    char text[96];
    if (d.track_id >= 0) {
      std::snprintf(text, sizeof(text), "%s %.2f #%d", d.label.c_str(), d.score, d.track_id);
    } else {
      std::snprintf(text, sizeof(text), "%s %.2f", d.label.c_str(), d.score);
    }
    int base = 0;
    cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 0.45, 1, &base);
    cv::Point org(r.x, std::max(ts.height + 2, r.y - 3));
    cv::rectangle(*frame, cv::Rect(org.x, org.y - ts.height - 2, ts.width + 2, ts.height + 4),
                  color, cv::FILLED);
    cv::putText(*frame, text, org + cv::Point(1, 0), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
}

}  // namespace strata::vision
