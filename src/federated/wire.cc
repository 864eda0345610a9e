#include "strata/federated/wire.h"

#include <bit>
#include <cstring>

namespace strata::federated {

void ByteWriter::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::F64(double v) { U64(std::bit_cast<uint64_t>(v)); }

void ByteWriter::Bytes(std::span<const uint8_t> b) {
  U32(static_cast<uint32_t>(b.size()));
  Raw(b);
}

void ByteWriter::String(const std::string& s) {
  Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

Status ByteReader::Need(size_t n) const {
  if (remaining() < n) {
    return DataLossError("truncated message: need " + std::to_string(n) + " bytes at offset " +
                         std::to_string(pos_) + ", have " + std::to_string(remaining()));
  }
  return Status::Ok();
}

Result<uint8_t> ByteReader::U8() {
  STRATA_RETURN_IF_ERROR(Need(1));
  return data_[pos_++];
}

Result<uint32_t> ByteReader::U32() {
  STRATA_RETURN_IF_ERROR(Need(4));
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(data_[pos_ + i]) << (8 * i);
  pos_ += 4;
  return v;
}

Result<uint64_t> ByteReader::U64() {
  STRATA_RETURN_IF_ERROR(Need(8));
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
  pos_ += 8;
  return v;
}

Result<double> ByteReader::F64() {
  STRATA_ASSIGN_OR_RETURN(uint64_t bits, U64());
  return std::bit_cast<double>(bits);
}

Result<std::vector<uint8_t>> ByteReader::Bytes(size_t max_len) {
  STRATA_ASSIGN_OR_RETURN(uint32_t len, U32());
  if (len > max_len) {
    return InvalidArgumentError("oversized field: " + std::to_string(len) + " bytes > limit " +
                                std::to_string(max_len));
  }
  STRATA_RETURN_IF_ERROR(Need(len));
  std::vector<uint8_t> out(data_.begin() + pos_, data_.begin() + pos_ + len);
  pos_ += len;
  return out;
}

Result<std::string> ByteReader::String(size_t max_len) {
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> b, Bytes(max_len));
  return std::string(b.begin(), b.end());
}

Status ByteReader::Raw(std::span<uint8_t> out) {
  STRATA_RETURN_IF_ERROR(Need(out.size()));
  std::memcpy(out.data(), data_.data() + pos_, out.size());
  pos_ += out.size();
  return Status::Ok();
}

Result<uint32_t> ByteReader::Count(uint32_t max_count, size_t elem_size, const char* what) {
  STRATA_ASSIGN_OR_RETURN(uint32_t n, U32());
  if (n > max_count) {
    return InvalidArgumentError(std::string("oversized ") + what + ": " + std::to_string(n) +
                                " > limit " + std::to_string(max_count));
  }
  STRATA_RETURN_IF_ERROR(Need(static_cast<size_t>(n) * elem_size));
  return n;
}

Status ByteReader::ExpectEnd() const {
  if (remaining() != 0) {
    return InvalidArgumentError(std::to_string(remaining()) + " trailing bytes after message");
  }
  return Status::Ok();
}

void WriteHeader(ByteWriter& w, MessageType type) {
  w.U8('S');
  w.U8('F');
  w.U8(static_cast<uint8_t>(type));
  w.U8(kWireVersion);
}

Status ReadHeader(ByteReader& r, MessageType expected) {
  STRATA_ASSIGN_OR_RETURN(uint8_t m0, r.U8());
  STRATA_ASSIGN_OR_RETURN(uint8_t m1, r.U8());
  if (m0 != 'S' || m1 != 'F')
    return InvalidArgumentError("bad magic: not a Strata federated message");
  STRATA_ASSIGN_OR_RETURN(uint8_t type, r.U8());
  if (type != static_cast<uint8_t>(expected)) {
    return InvalidArgumentError("wrong message type " + std::to_string(type) + ", expected " +
                                std::to_string(static_cast<int>(expected)));
  }
  STRATA_ASSIGN_OR_RETURN(uint8_t version, r.U8());
  if (version != kWireVersion) {
    return InvalidArgumentError("unsupported message version " + std::to_string(version));
  }
  return Status::Ok();
}

}  // namespace strata::federated
