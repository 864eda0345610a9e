#include "strata/vision/model_manifest.h"

#include <gtest/gtest.h>

#include "strata/vision/detector.h"

namespace strata::vision {
namespace {

std::string Manifest(const std::string& name) {
  return std::string(STRATA_SOURCE_DIR) + "/configs/models/" + name + ".yaml";
}

TEST(VisionModelManifestTest, ShippedManifestsParse) {
  for (const char* name : {"yolox_nano", "yolo_fastest_coco", "yolo_fastest_xl",
                           "yolo_fastest_body", "yunet", "mobilefacenet"}) {
    auto m = LoadModelManifest(Manifest(name));
    EXPECT_TRUE(m.ok()) << name << ": " << m.status();
  }
  auto y = LoadModelManifest(Manifest("yolox_nano"));
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->input.width, 416);
  EXPECT_EQ(y->input.resize, "letterbox");
  EXPECT_EQ(y->input.pad_value, 114);
  EXPECT_EQ(y->input.channel_order, "bgr");
  EXPECT_EQ(y->strides, (std::vector<int>{8, 16, 32}));
  auto f = LoadModelManifest(Manifest("yolo_fastest_body"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->labels, (std::vector<std::string>{"person"}));
  EXPECT_NEAR(f->input.scale, 1 / 255.0, 1e-12);
  auto e = LoadModelManifest(Manifest("mobilefacenet"));
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->align_template.size(), 5u);
  EXPECT_NEAR(e->align_template[4].y, 92.2041f, 1e-4);
}

TEST(VisionModelManifestTest, ErrorsNameFileKeyAndLine) {
  auto r = ParseModelManifest(
      "name: x\nkind: detector\nframework: onnx\nmodel: x.onnx\n"
      "input:\n  width: abc\n  height: 320\noutput:\n  decoder: yolox\n  strides: [8]\n"
      "labels: [person]\n",
      "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad.yaml:6"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("input.width"), std::string::npos) << r.status();

  auto typo = ParseModelManifest("name: x\nkind: detector\nframwork: onnx\n", "t.yaml");
  EXPECT_NE(typo.status().message().find("framwork"), std::string::npos) << typo.status();

  auto darknet = ParseModelManifest(
      "name: x\nkind: detector\nframework: darknet\nmodel: x.weights\n"
      "input: {width: 320, height: 320}\noutput: {decoder: darknet_region}\nlabels: [a]\n",
      "d.yaml");
  EXPECT_NE(darknet.status().message().find(".cfg"), std::string::npos) << darknet.status();
}

TEST(VisionModelManifestTest, MissingModelFileIsNotFoundWithSearchPath) {
  auto m = LoadModelManifest(Manifest("yolox_nano"));
  ASSERT_TRUE(m.ok());
  auto p = m->Resolve(m->model_file, {"/nonexistent/a", "/nonexistent/b"});
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/a, /nonexistent/b"), std::string::npos);
}

TEST(VisionDetectorRegistryTest, ListsBackendsAndRejectsUnknown) {
  EXPECT_EQ(DetectorBackends(), (std::vector<std::string>{"hog", "dnn"}));
  DetectorConfig c;
  c.backend = "tensorrt";
  auto d = CreateDetector(c);
  EXPECT_EQ(d.status(),
            InvalidArgumentError("detector.backend: unknown backend 'tensorrt' (known: hog, dnn)"));
  c.backend = "dnn";
  EXPECT_NE(CreateDetector(c).status().message().find("needs a model manifest"), std::string::npos);
  c.backend = "hog";
  c.classes = {"car"};
  EXPECT_EQ(CreateDetector(c).status().code(), StatusCode::kInvalidArgument);
}

TEST(VisionDetectorRegistryTest, DnnRejectsUnknownClassName) {
  DetectorConfig c;
  c.backend = "dnn";
  c.manifest = Manifest("yolo_fastest_coco");
  c.model_dirs = {std::string(STRATA_SOURCE_DIR) + "/../shared/assets/models"};
  c.classes = {"unicorn"};
  auto d = CreateDetector(c);
  ASSERT_FALSE(d.ok());
  // Labels are read before the weights, so this holds with or without the model files.
  if (d.status().code() == StatusCode::kNotFound) GTEST_SKIP() << d.status();
  EXPECT_NE(d.status().message().find("'unicorn' is not a label"), std::string::npos);
}

}  // namespace
}  // namespace strata::vision
