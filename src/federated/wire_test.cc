#include "strata/federated/wire.h"

#include <gtest/gtest.h>

namespace strata::federated {
namespace {

TEST(FedWireTest, RoundTripsFields) {
  ByteWriter w;
  WriteHeader(w, MessageType::kModelUpdate);
  w.U32(0xdeadbeef);
  w.U64(1ull << 60);
  w.F64(-2.5);
  w.String("edge-1");
  ByteReader r(w.bytes());
  ASSERT_TRUE(ReadHeader(r, MessageType::kModelUpdate).ok());
  EXPECT_EQ(r.U32().value(), 0xdeadbeefu);
  EXPECT_EQ(r.U64().value(), 1ull << 60);
  EXPECT_EQ(r.F64().value(), -2.5);
  EXPECT_EQ(r.String(16).value(), "edge-1");
  EXPECT_TRUE(r.ExpectEnd().ok());
}

TEST(FedWireTest, TruncatedOversizedAndWrongHeaderAreCleanErrors) {
  ByteWriter w;
  w.String("abcdef");
  std::vector<uint8_t> b = w.bytes();
  ByteReader small(std::span<const uint8_t>(b).first(5));
  EXPECT_EQ(small.String(100).status().code(), StatusCode::kDataLoss);
  ByteReader limited(b);
  EXPECT_EQ(limited.String(3).status().code(), StatusCode::kInvalidArgument);

  ByteWriter h;
  WriteHeader(h, MessageType::kGlobalModel);
  ByteReader wrong_type(h.bytes());
  EXPECT_EQ(ReadHeader(wrong_type, MessageType::kModelUpdate).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> bad_version = h.bytes();
  bad_version[3] = 99;
  ByteReader v(bad_version);
  EXPECT_EQ(ReadHeader(v, MessageType::kGlobalModel).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> bad_magic = h.bytes();
  bad_magic[0] = 'X';
  ByteReader m(bad_magic);
  EXPECT_EQ(ReadHeader(m, MessageType::kGlobalModel).code(), StatusCode::kInvalidArgument);

  // A huge count is refused before any allocation.
  ByteWriter c;
  c.U32(0xffffffffu);
  ByteReader cr(c.bytes());
  EXPECT_EQ(cr.Count(1000, 8, "values").status().code(), StatusCode::kInvalidArgument);
  ByteWriter c2;
  c2.U32(10);
  ByteReader cr2(c2.bytes());
  EXPECT_EQ(cr2.Count(1000, 8, "values").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace strata::federated
