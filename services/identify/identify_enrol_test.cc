// strata-identify: POST /api/v1/gallery/{person} is idempotent by X-Strata-Message-Id (the id is
// committed with the template in gallery.db), against a real server on port 0 and a real
// encrypted SQLite gallery; the same data dir across a restart.
#include "identify_test_util.h"

namespace strata::identify_service::test {
namespace {

using nlohmann::json;

class IdentifyEnrolDedupeTest : public IdentifyHarness {
 protected:
  void SetUp() override { Start(IdentifyConfig{}); }

  Result<http::ClientResponse> EnrolWithId(const std::string& person, const std::string& id) {
    return client_->Post("/api/v1/gallery/" + person, SmallJpeg(), "image/jpeg",
                         {{"X-Strata-Message-Id", id}});
  }
  // Templates of `person` in GET /api/v1/gallery (0 when not listed).
  int Templates(const std::string& person) {
    auto r = client_->Get("/api/v1/gallery");
    EXPECT_TRUE(r.ok() && r->status == 200);
    if (!r.ok()) return -1;
    const json list = *r->Json();  // a named copy: the range-for would dangle on a temporary
    for (const json& p : list["people"])
      if (p["name"] == person) return p["templates"].get<int>();
    return 0;
  }
};

TEST_F(IdentifyEnrolDedupeTest, TheSameIdTwiceStoresOneTemplateAndAnswersTheSame) {
  auto first = EnrolWithId("alice", "01J9ZK-enrol-1");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->status, 201) << first->body;
  json a = *first->Json();
  EXPECT_EQ(a["templates"], 1);
  EXPECT_FALSE(a.contains("duplicate"));
  auto again = EnrolWithId("alice", "01J9ZK-enrol-1");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->status, 200) << again->body;
  json b = *again->Json();
  EXPECT_EQ(b["duplicate"], true);
  b.erase("duplicate");
  EXPECT_EQ(b, a) << "a resend gets the first answer";
  EXPECT_EQ(Templates("alice"), 1);
}

TEST_F(IdentifyEnrolDedupeTest, TheIdIsRememberedAcrossARestart) {
  auto first = EnrolWithId("bob", "restart-1");
  ASSERT_TRUE(first.ok() && first->status == 201) << (first.ok() ? first->body : "");
  Stop();
  Start(IdentifyConfig{});  // same data dir and key
  auto again = EnrolWithId("bob", "restart-1");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->status, 200) << again->body;
  json b = *again->Json();
  EXPECT_EQ(b["duplicate"], true);
  EXPECT_EQ(b["person"], "bob");
  EXPECT_EQ(b["templates"], 1);
  EXPECT_EQ(Templates("bob"), 1);
}

TEST_F(IdentifyEnrolDedupeTest, DifferentIdsAndNoIdEachAddATemplate) {
  auto one = EnrolWithId("carol", "id-1");
  auto two = EnrolWithId("carol", "id-2");
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(one->status, 201) << one->body;
  EXPECT_EQ(two->status, 201) << two->body;
  EXPECT_EQ((*two->Json())["templates"], 2);
  // Without the header: today's behaviour, every request enrols.
  ASSERT_EQ(Enrol("carol", SmallJpeg())->status, 201);
  ASSERT_EQ(Enrol("carol", SmallJpeg())->status, 201);
  EXPECT_EQ(Templates("carol"), 4);
  // After a delete the person's ids are forgotten with the templates: a resend enrols again.
  ASSERT_EQ(client_->Delete("/api/v1/gallery/carol")->status, 204);
  auto after = EnrolWithId("carol", "id-1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 201) << after->body;
  EXPECT_EQ(Templates("carol"), 1);
}

TEST_F(IdentifyEnrolDedupeTest, ABadMessageIdIsA400AndStoresNothing) {
  ExpectProblemThenHealthy(EnrolWithId("dave", std::string(129, 'x')), 400, "129-char id");
  ExpectProblemThenHealthy(EnrolWithId("dave", "caf\xc3\xa9"), 400, "non-ASCII id");
  ExpectProblemThenHealthy(EnrolWithId("dave", "a\tb"), 400, "id with a tab");
  EXPECT_EQ(Templates("dave"), 0);
  auto longest = EnrolWithId("dave", std::string(128, 'x'));
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->status, 201) << "128 printable characters are a valid id: " << longest->body;
  EXPECT_EQ(Templates("dave"), 1);
}

}  // namespace
}  // namespace strata::identify_service::test
