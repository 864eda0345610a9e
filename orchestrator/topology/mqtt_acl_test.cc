// MQTT ACLs against a REAL mosquitto: no credentials and wrong passwords are refused, a publish
// outside a principal's ACL never reaches a subscriber, an allowed publish does.
#include "topology/mqtt_acl.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/mqtt.h"

namespace strata::topology {
namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

TEST(MqttAcl, PasswordLineHasMosquittoFormatAndFreshSalt) {
  auto a = MosquittoPasswordLine("alice", "pw"), b = MosquittoPasswordLine("alice", "pw");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->rfind("alice:$7$101$", 0), 0u) << *a;
  EXPECT_NE(*a, *b);  // random salt
  // user:$7$iter$<16 chars of base64 salt>$<88 chars of base64 hash>\n
  EXPECT_EQ(a->size(), std::string("alice:$7$101$").size() + 16 + 1 + 88 + 1) << *a;
  EXPECT_EQ(a->find("pw\n"), std::string::npos);
}

TEST(MqttAcl, AclFileBlocksAndValidation) {
  auto acl = RenderAclFile(DefaultPrincipals("strata"));
  ASSERT_TRUE(acl.ok()) << acl.status();
  EXPECT_NE(acl->find("user identify\ntopic write strata/camera/+/face\n"), std::string::npos) << *acl;
  EXPECT_NE(acl->find("user federate\ntopic readwrite strata/fl/#\n"), std::string::npos) << *acl;
  EXPECT_NE(acl->find("user reader\ntopic read strata/#\n"), std::string::npos) << *acl;
  EXPECT_FALSE(RenderAclFile({{.name = "Bad Name"}}).ok());
  EXPECT_FALSE(RenderAclFile({{.name = "x", .publish = {"a/#/b"}}}).ok());
  EXPECT_FALSE(RenderAclFile({{.name = "x", .publish = {"a\ntopic readwrite #"}}}).ok());
}

TEST(MqttAcl, WriteIsPrivateAndKeepsExistingPasswords) {
  testing::TempDir dir;
  const std::string d = dir.File("auth");
  auto f = WriteMqttAuth(d, DefaultPrincipals());
  ASSERT_TRUE(f.ok()) << f.status();
  struct stat st {};
  for (const std::string& p : {f->password_file, f->acl_file, f->password_files[0]}) {
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mode & 0777, 0600) << p;
  }
  std::string pw = ReadLine(f->password_files[0]);
  EXPECT_GE(pw.size(), 32u);
  auto again = WriteMqttAuth(d, DefaultPrincipals());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ReadLine(again->password_files[0]), pw);
  EXPECT_NE(MosquittoAuthLines(d).find("allow_anonymous false"), std::string::npos);
  EXPECT_EQ(MosquittoAuthLines(dir.File("none")), "allow_anonymous true\n");
}

struct Inbox {
  std::mutex mu;
  std::vector<std::string> topics;
  bool Has(const std::string& t) {
    std::lock_guard lock(mu);
    return std::find(topics.begin(), topics.end(), t) != topics.end();
  }
};

TEST(MqttAcl, RealMosquittoEnforcesCredentialsAndAcls) {
  testing::TempDir dir;
  const std::string d = dir.File("auth");
  auto files = WriteMqttAuth(d, DefaultPrincipals());
  ASSERT_TRUE(files.ok()) << files.status();
  // As root, mosquitto drops to its own user before reading the files (WriteMqttAuth chowns
  // them); the private temp dir above them must let it through.
  ::chmod(dir.path().c_str(), 0711);
  auto broker = testing::MosquittoBroker::Start({.extra_config = MosquittoAuthLines(d)});
  if (!broker.ok()) GTEST_SKIP() << broker.status();
  auto password = [&](const std::string& name) { return ReadLine(d + "/" + name + ".password"); };
  auto client = [&](const std::string& user, const std::string& pw, const std::string& id) {
    auto c = mqtt::MqttClient::Create({.uri = (*broker)->uri(),
                                       .client_id = id,
                                       .username = user,
                                       .password = pw,
                                       .reconnect_max_s = 1,
                                       .op_timeout = std::chrono::milliseconds(2000)});
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(c).value();
  };

  // No credentials, wrong password, unknown user: refused.
  auto anon = client("", "", "acl-anon");
  EXPECT_FALSE(anon->Connect(std::chrono::milliseconds(1500)).ok());
  auto wrong = client("identify", password("identify") + "x", "acl-wrong");
  Status wrong_status = wrong->Connect(std::chrono::milliseconds(1500));
  EXPECT_FALSE(wrong_status.ok());
  EXPECT_EQ(wrong_status.message().find(password("identify")), std::string::npos);
  auto stranger = client("mallory", password("identify"), "acl-stranger");
  EXPECT_FALSE(stranger->Connect(std::chrono::milliseconds(1500)).ok());

  // A reader subscribed to everything under strata/.
  Inbox inbox;
  auto reader = client("reader", password("reader"), "acl-reader");
  ASSERT_TRUE(reader->Subscribe("strata/#", 1, [&](const mqtt::Message& m) {
                      std::lock_guard lock(inbox.mu);
                      inbox.topics.push_back(m.topic);
                    }).ok());
  ASSERT_TRUE(reader->Connect(std::chrono::seconds(15)).ok());
  auto identify = client("identify", password("identify"), "acl-identify");
  auto notify = client("notify", password("notify"), "acl-notify");
  ASSERT_TRUE(identify->Connect(std::chrono::seconds(15)).ok());
  ASSERT_TRUE(notify->Connect(std::chrono::seconds(15)).ok());

  // Forbidden publishes first, allowed ones last. Each QoS 1 publish returns after the PUBACK,
  // i.e. after the broker routed (or dropped) it, so once the last allowed message arrives at
  // the reader, anything routed to it before has arrived too: no timing assumption.
  (void)identify->Publish("strata/camera/c1/alert", "{\"forged\":true}", 1);
  (void)identify->Publish("strata/fl/g/global", "forged", 1);
  (void)reader->Publish("strata/camera/c9/alert", "{\"forged\":2}", 1);  // reader: read only
  ASSERT_TRUE(identify->Publish("strata/camera/c1/face", "{\"name\":\"x\"}", 1).ok());
  ASSERT_TRUE(notify->Publish("strata/camera/c2/alert", "{\"ok\":true}", 1).ok());
  for (int i = 0; i < 500 && !(inbox.Has("strata/camera/c1/face") && inbox.Has("strata/camera/c2/alert"));
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // bounded: 5 s
  EXPECT_TRUE(inbox.Has("strata/camera/c1/face"));
  ASSERT_TRUE(inbox.Has("strata/camera/c2/alert"));
  EXPECT_FALSE(inbox.Has("strata/camera/c1/alert")) << "identify's forged alert was delivered";
  EXPECT_FALSE(inbox.Has("strata/fl/g/global")) << "identify's forged FL update was delivered";
  EXPECT_FALSE(inbox.Has("strata/camera/c9/alert")) << "the read-only reader could publish";
}

}  // namespace
}  // namespace strata::topology
