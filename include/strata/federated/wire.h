// Wire: a compact, versioned, little-endian binary encoding for federated messages.
//
// ByteWriter appends fixed-width integers, IEEE doubles and length-prefixed byte strings to a
// buffer. ByteReader reads them back with bounds checks: reading past the end returns DataLoss
// ("truncated"), a length prefix above the caller's limit returns InvalidArgument ("oversized").
// Every message of this library starts with a 4-byte header: magic 'S','F', a message type and a
// format version, checked by ReadHeader. Decoders are fuzz-friendly: any byte string yields either
// a value or a Status, never a crash or an unbounded allocation.
// Thread-safety: instances are not thread-safe; distinct instances may be used concurrently.
//
//   ByteWriter w;  WriteHeader(w, MessageType::kModelUpdate);  w.U32(7);
//   ByteReader r(w.bytes());  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kModelUpdate));
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::federated {

inline constexpr uint8_t kWireVersion = 1;

enum class MessageType : uint8_t {
  kModelUpdate = 1,
  kGlobalModel = 2,
  kCentroidReport = 3,
  kSecAggAdvertise = 10,
  kSecAggShareKeys = 11,
  kSecAggMaskedInput = 12,
  kSecAggUnmaskRequest = 13,
  kSecAggUnmaskResponse = 14,
  kSecAggKeyList = 15,
  kSecAggShareBundle = 16,
  kCompressed = 20,
  kCompressedUpdate = 21,
};

class ByteWriter {
 public:
  void U8(uint8_t v) { buf_.push_back(v); }
  void U32(uint32_t v);
  void U64(uint64_t v);
  void F64(double v);
  // u32 length prefix, then the bytes.
  void Bytes(std::span<const uint8_t> b);
  void String(const std::string& s);
  // Raw bytes, no prefix (fixed-size fields such as keys and MACs).
  void Raw(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t> Take() { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}
  // Each returns DataLoss when fewer bytes remain than the field needs.
  Result<uint8_t> U8();
  Result<uint32_t> U32();
  Result<uint64_t> U64();
  Result<double> F64();
  // Length-prefixed; InvalidArgument when the prefix exceeds max_len.
  Result<std::vector<uint8_t>> Bytes(size_t max_len);
  Result<std::string> String(size_t max_len);
  // Exactly n raw bytes into out.
  Status Raw(std::span<uint8_t> out);
  // A count that must be <= max_count and whose elements (elem_size bytes each) fit in what
  // remains; guards allocations before they happen.
  Result<uint32_t> Count(uint32_t max_count, size_t elem_size, const char* what);
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  // InvalidArgument when bytes remain after a complete message.
  Status ExpectEnd() const;

 private:
  Status Need(size_t n) const;
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

void WriteHeader(ByteWriter& w, MessageType type);
// InvalidArgument on a bad magic, wrong type or unsupported version; DataLoss when truncated.
Status ReadHeader(ByteReader& r, MessageType expected);

}  // namespace strata::federated
