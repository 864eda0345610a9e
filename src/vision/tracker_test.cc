#include "strata/vision/tracker.h"

#include <gtest/gtest.h>

#include <set>

namespace strata::vision {
namespace {

Detection Person(float x, float y, float score = 0.9f) {
  Detection d;
  d.class_id = 0;
  d.label = "person";
  d.score = score;
  d.box = cv::Rect2f(x, y, 40, 100);
  return d;
}

TEST(VisionIouTrackerTest, OneWalkerIsOneTrack) {
  auto t = IouTracker::Create({});
  ASSERT_TRUE(t.ok());
  std::set<int> ids;
  int reported = 0;
  for (int i = 0; i < 60; ++i) {
    std::vector<Detection> dets;
    if (i % 7 != 3) dets.push_back(Person(10.0f + 6 * i, 200));  // missed every 7th frame
    for (const Detection& d : t->Update(dets)) {
      ids.insert(d.track_id);
      ++reported;
    }
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(t->tracks_started(), 1);
  EXPECT_EQ(t->tracks_confirmed(), 1);
  EXPECT_GT(reported, 45);
}

TEST(VisionIouTrackerTest, TwoPeopleTwoTracksAndMinHits) {
  auto t = IouTracker::Create({.iou_threshold = 0.3, .min_hits = 3, .max_age = 2});
  ASSERT_TRUE(t.ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(t->Update({Person(10.0f + 5 * i, 50), Person(300.0f - 5 * i, 50)}).empty())
        << "tentative tracks are not reported before min_hits";
  }
  auto out = t->Update({Person(20, 50), Person(290, 50)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].track_id, out[1].track_id);
  // A short false positive never becomes a track.
  t->Update({Person(20, 50), Person(290, 50), Person(600, 400)});
  for (int i = 0; i < 4; ++i) t->Update({Person(20, 50), Person(290, 50)});
  EXPECT_EQ(t->tracks_confirmed(), 2);
  // Both leave; after max_age updates their tracks are gone; a new person gets a new id.
  for (int i = 0; i < 3; ++i) t->Update({});
  EXPECT_TRUE(t->tracks().empty());
  for (int i = 0; i < 3; ++i) out = t->Update({Person(20, 50)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].track_id, 4);  // ids 1, 2 (people), 3 (false positive), 4
}

TEST(VisionIouTrackerTest, RejectsBadConfig) {
  EXPECT_FALSE(IouTracker::Create({.iou_threshold = 0}).ok());
  EXPECT_FALSE(IouTracker::Create({.iou_threshold = 0.3, .min_hits = 0}).ok());
  EXPECT_NE(IouTracker::Create({.iou_threshold = 0.3, .min_hits = 1, .max_age = -1})
                .status()
                .message()
                .find("tracker.max_age"),
            std::string::npos);
}

}  // namespace
}  // namespace strata::vision
