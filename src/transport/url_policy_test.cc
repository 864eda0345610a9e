// URL policy against SSRF: schemes, userinfo, metadata/link-local, multicast, private ranges,
// resolution of every address, and no secrets (path/query) in the error messages.
#include "transport/url_policy.h"

#include <gtest/gtest.h>

namespace strata::net {
namespace {

UrlPolicy WithResolver(UrlPolicy p, std::vector<std::string> addrs) {
  p.resolver = [addrs](const std::string&) -> Result<std::vector<std::string>> { return addrs; };
  return p;
}

TEST(UrlPolicy, WebhookRejectsWhatItShould) {
  UrlPolicy p = WebhookPolicy(false);
  struct Case {
    std::string url, reason;
  };
  for (const Case& c : std::vector<Case>{
           {"ftp://8.8.8.8/x", "scheme 'ftp'"},
           {"file:///etc/passwd", "scheme 'file'"},
           {"http://user:pw@8.8.8.8/", "credentials"},
           {"http://169.254.169.254/latest/meta-data/", "link-local"},
           {"http://[fe80::1]/", "link-local"},
           {"http://[::ffff:169.254.169.254]/", "link-local"},
           {"http://224.0.0.1/", "multicast"},
           {"http://[ff02::1]/", "multicast"},
           {"http://0.0.0.0:80/", "unspecified"},
           {"http://[::]/", "unspecified"},
           {"http://255.255.255.255/", "reserved"},
           {"http://127.0.0.1:8080/hook", "loopback"},
           {"http://10.1.2.3/", "RFC 1918"},
           {"http://172.20.0.1/", "RFC 1918"},
           {"http://192.168.0.10/", "RFC 1918"},
           {"http://100.64.0.1/", "CGNAT"},
           {"http://[fd00:ec2::254]/", "unique-local"},
           {"http://[::1]:9/", "loopback"},
           {"http://localhost:9/", "loopback"},  // resolved by getaddrinfo (/etc/hosts)
           {"http://8.8.8.8 /", "spaces"},
           {"http://8.8.8.8:99999/", "port"},
           {"http://exa$mple.com/", "host name"},
           {"http:///path", "no host"},
           {"//8.8.8.8/", "scheme"},
       }) {
    Status s = CheckOutboundUrl(c.url, p);
    ASSERT_FALSE(s.ok()) << c.url;
    EXPECT_NE(s.message().find(c.reason), std::string::npos) << c.url << " → " << s;
  }
  EXPECT_TRUE(CheckOutboundUrl("https://8.8.8.8/hooks/abc?sig=1", p).ok());
  EXPECT_TRUE(CheckOutboundUrl("HTTP://1.1.1.1:8443", p).ok());
  EXPECT_TRUE(CheckOutboundUrl("http://[2001:4860:4860::8888]/x", p).ok());
}

TEST(UrlPolicy, AllowPrivateLiftsOnlyPrivateRanges) {
  UrlPolicy p = WebhookPolicy(true);
  EXPECT_TRUE(CheckOutboundUrl("http://127.0.0.1:8080/hook", p).ok());
  EXPECT_TRUE(CheckOutboundUrl("http://192.168.1.5/hook", p).ok());
  EXPECT_TRUE(CheckOutboundUrl("http://localhost:1/hook", p).ok());
  EXPECT_FALSE(CheckOutboundUrl("http://169.254.169.254/", p).ok());
  EXPECT_FALSE(CheckOutboundUrl("http://0.0.0.0/", p).ok());
  EXPECT_FALSE(CheckOutboundUrl("http://239.1.1.1/", p).ok());
}

TEST(UrlPolicy, EveryResolvedAddressIsChecked) {
  // A name with one public and one metadata address: refused (an attacker picks the order).
  UrlPolicy p = WithResolver(WebhookPolicy(true), {"93.184.216.34", "169.254.169.254"});
  Status s = CheckOutboundUrl("https://hooks.example.com/T0/secret-path?token=SECRET", p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("169.254.169.254"), std::string::npos) << s;
  EXPECT_NE(s.message().find("https://hooks.example.com"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("SECRET"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("secret-path"), std::string::npos) << s;
  EXPECT_TRUE(
      CheckOutboundUrl("https://hooks.example.com/x",
                       WithResolver(WebhookPolicy(false), {"93.184.216.34", "2606:2800::1"}))
          .ok());
  UrlPolicy failing = WebhookPolicy(false);
  failing.resolver = [](const std::string&) -> Result<std::vector<std::string>> {
    return UnavailableError("Name or service not known");
  };
  Status unresolved = CheckOutboundUrl("https://nope.invalid/x", failing);
  EXPECT_EQ(unresolved.code(), StatusCode::kUnavailable) << unresolved;
}

TEST(UrlPolicy, CameraSources) {
  UrlPolicy p = CameraSourcePolicy();
  EXPECT_TRUE(CheckOutboundUrl("rtsp://192.168.1.64:554/Streaming/Channels/101", p).ok());
  EXPECT_TRUE(CheckOutboundUrl("rtsp://127.0.0.1:8554/cam", p).ok());
  EXPECT_TRUE(CheckOutboundUrl("http://10.0.0.7/mjpg/video.mjpg", p).ok());
  EXPECT_TRUE(CheckOutboundUrl("file:///var/lib/strata/clip.mp4", p).ok());
  EXPECT_FALSE(CheckOutboundUrl("file://otherhost/share/clip.mp4", p).ok());
  // IP cameras log in with rtsp://user:pw@host; the host is still checked and errors never
  // echo the credentials.
  EXPECT_TRUE(CheckOutboundUrl("rtsp://admin:admin@192.168.1.64/", p).ok());
  Status meta = CheckOutboundUrl("rtsp://admin:s3cret@169.254.169.254/", p);
  EXPECT_FALSE(meta.ok());
  EXPECT_EQ(meta.message().find("s3cret"), std::string::npos) << meta;
  EXPECT_FALSE(CheckOutboundUrl("gopher://10.0.0.1/", p).ok());
  EXPECT_FALSE(CheckOutboundUrl("http://169.254.169.254/latest/", p).ok());
  EXPECT_FALSE(CheckOutboundUrl("rtsp://239.0.0.1/", p).ok());
}

TEST(UrlPolicy, ClassifyAddress) {
  bool always = false;
  EXPECT_EQ(ClassifyAddress("8.8.8.8", &always), "");
  EXPECT_NE(ClassifyAddress("172.31.255.255", &always), "");
  EXPECT_FALSE(always);
  EXPECT_EQ(ClassifyAddress("172.32.0.1", &always), "");   // just outside 172.16/12
  EXPECT_EQ(ClassifyAddress("100.128.0.1", &always), "");  // just outside 100.64/10
  EXPECT_NE(ClassifyAddress("169.254.0.1", &always), "");
  EXPECT_TRUE(always);
  EXPECT_NE(ClassifyAddress("febf::1", &always), "");
  EXPECT_TRUE(always);
  EXPECT_EQ(ClassifyAddress("fec0::1", &always), "");  // outside fe80::/10
}

}  // namespace
}  // namespace strata::net
