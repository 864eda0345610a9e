#include "strata/federated/secagg_messages.h"

#include <sodium.h>

namespace strata::federated {
namespace {

constexpr size_t kShareChunks = 8;  // a 32-byte secret is 8 field elements

std::vector<uint8_t> Seal(ByteWriter& w, const AuthKey& token) {
  std::vector<uint8_t> out = w.Take();
  uint8_t mac[kMacBytes];
  crypto_auth(mac, out.data(), out.size(), token.data());
  out.insert(out.end(), mac, mac + kMacBytes);
  return out;
}

// Verifies the trailing tag with the sender's token; returns the authenticated body.
Result<std::span<const uint8_t>> Open(std::span<const uint8_t> b, MessageType type,
                                      std::span<const AuthKey> tokens) {
  ByteReader r(b);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, type));
  STRATA_ASSIGN_OR_RETURN(uint64_t round, r.U64());
  (void)round;
  STRATA_ASSIGN_OR_RETURN(uint32_t sender, r.U32());
  if (r.remaining() < kMacBytes)
    return DataLossError("truncated message: missing authentication tag");
  if (sender >= tokens.size()) {
    return UnauthenticatedError("message from unknown node index " + std::to_string(sender));
  }
  const size_t body = b.size() - kMacBytes;
  if (crypto_auth_verify(b.data() + body, b.data(), body, tokens[sender].data()) != 0) {
    return UnauthenticatedError("bad authentication tag on message from node " +
                                std::to_string(sender));
  }
  return b.first(body);
}

Status ReadKey(ByteReader& r, Key32& k) { return r.Raw(k); }

void WriteShares(ByteWriter& w, const std::vector<EncryptedShare>& shares) {
  w.U32(static_cast<uint32_t>(shares.size()));
  for (const EncryptedShare& s : shares) {
    w.U32(s.from);
    w.U32(s.to);
    w.Bytes(s.ciphertext);
  }
}

Result<std::vector<EncryptedShare>> ReadShares(ByteReader& r) {
  STRATA_ASSIGN_OR_RETURN(uint32_t n, r.Count(kMaxSecAggNodes, 12, "share count"));
  std::vector<EncryptedShare> shares(n);
  for (EncryptedShare& s : shares) {
    STRATA_ASSIGN_OR_RETURN(s.from, r.U32());
    STRATA_ASSIGN_OR_RETURN(s.to, r.U32());
    STRATA_ASSIGN_OR_RETURN(s.ciphertext, r.Bytes(kMaxCiphertextBytes));
  }
  return shares;
}

void WriteIndices(ByteWriter& w, const std::vector<uint32_t>& v) {
  w.U32(static_cast<uint32_t>(v.size()));
  for (uint32_t x : v) w.U32(x);
}

Result<std::vector<uint32_t>> ReadIndices(ByteReader& r) {
  STRATA_ASSIGN_OR_RETURN(uint32_t n, r.Count(kMaxSecAggNodes, 4, "node list"));
  std::vector<uint32_t> v(n);
  for (uint32_t& x : v) {
    STRATA_ASSIGN_OR_RETURN(x, r.U32());
  }
  return v;
}

}  // namespace

std::vector<uint8_t> AdvertiseKeysMsg::Encode(const AuthKey& token) const {
  ByteWriter w;
  WriteHeader(w, MessageType::kSecAggAdvertise);
  w.U64(round_id);
  w.U32(sender);
  w.Raw(c_pk);
  w.Raw(s_pk);
  return Seal(w, token);
}

Result<AdvertiseKeysMsg> AdvertiseKeysMsg::Decode(std::span<const uint8_t> b,
                                                  std::span<const AuthKey> tokens) {
  STRATA_ASSIGN_OR_RETURN(auto body, Open(b, MessageType::kSecAggAdvertise, tokens));
  ByteReader r(body);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kSecAggAdvertise));
  AdvertiseKeysMsg m;
  STRATA_ASSIGN_OR_RETURN(m.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(m.sender, r.U32());
  STRATA_RETURN_IF_ERROR(ReadKey(r, m.c_pk));
  STRATA_RETURN_IF_ERROR(ReadKey(r, m.s_pk));
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::vector<uint8_t> KeyListMsg::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kSecAggKeyList);
  w.U64(round_id);
  w.U32(static_cast<uint32_t>(keys.size()));
  for (const AdvertiseKeysMsg& k : keys) {
    w.U32(k.sender);
    w.Raw(k.c_pk);
    w.Raw(k.s_pk);
  }
  return w.Take();
}

Result<KeyListMsg> KeyListMsg::Decode(std::span<const uint8_t> b) {
  ByteReader r(b);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kSecAggKeyList));
  KeyListMsg m;
  STRATA_ASSIGN_OR_RETURN(m.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(uint32_t n, r.Count(kMaxSecAggNodes, 68, "key list"));
  m.keys.resize(n);
  for (AdvertiseKeysMsg& k : m.keys) {
    k.round_id = m.round_id;
    STRATA_ASSIGN_OR_RETURN(k.sender, r.U32());
    STRATA_RETURN_IF_ERROR(ReadKey(r, k.c_pk));
    STRATA_RETURN_IF_ERROR(ReadKey(r, k.s_pk));
  }
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::vector<uint8_t> ShareKeysMsg::Encode(const AuthKey& token) const {
  ByteWriter w;
  WriteHeader(w, MessageType::kSecAggShareKeys);
  w.U64(round_id);
  w.U32(sender);
  w.Raw(b_commit);
  WriteShares(w, shares);
  return Seal(w, token);
}

Result<ShareKeysMsg> ShareKeysMsg::Decode(std::span<const uint8_t> b,
                                          std::span<const AuthKey> tokens) {
  STRATA_ASSIGN_OR_RETURN(auto body, Open(b, MessageType::kSecAggShareKeys, tokens));
  ByteReader r(body);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kSecAggShareKeys));
  ShareKeysMsg m;
  STRATA_ASSIGN_OR_RETURN(m.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(m.sender, r.U32());
  STRATA_RETURN_IF_ERROR(ReadKey(r, m.b_commit));
  STRATA_ASSIGN_OR_RETURN(m.shares, ReadShares(r));
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::vector<uint8_t> ShareBundleMsg::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kSecAggShareBundle);
  w.U64(round_id);
  w.U32(recipient);
  WriteShares(w, shares);
  return w.Take();
}

Result<ShareBundleMsg> ShareBundleMsg::Decode(std::span<const uint8_t> b) {
  ByteReader r(b);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kSecAggShareBundle));
  ShareBundleMsg m;
  STRATA_ASSIGN_OR_RETURN(m.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(m.recipient, r.U32());
  STRATA_ASSIGN_OR_RETURN(m.shares, ReadShares(r));
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::vector<uint8_t> MaskedInputMsg::Encode(const AuthKey& token) const {
  ByteWriter w;
  WriteHeader(w, MessageType::kSecAggMaskedInput);
  w.U64(round_id);
  w.U32(sender);
  w.U32(static_cast<uint32_t>(y.size()));
  for (uint64_t v : y) w.U64(v);
  return Seal(w, token);
}

Result<MaskedInputMsg> MaskedInputMsg::Decode(std::span<const uint8_t> b,
                                              std::span<const AuthKey> tokens) {
  STRATA_ASSIGN_OR_RETURN(auto body, Open(b, MessageType::kSecAggMaskedInput, tokens));
  ByteReader r(body);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kSecAggMaskedInput));
  MaskedInputMsg m;
  STRATA_ASSIGN_OR_RETURN(m.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(m.sender, r.U32());
  STRATA_ASSIGN_OR_RETURN(uint32_t n, r.Count(kMaxSecAggVector, 8, "masked vector"));
  m.y.resize(n);
  for (uint64_t& v : m.y) {
    STRATA_ASSIGN_OR_RETURN(v, r.U64());
  }
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::vector<uint8_t> UnmaskRequestMsg::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kSecAggUnmaskRequest);
  w.U64(round_id);
  WriteIndices(w, survivors);
  WriteIndices(w, dropped);
  return w.Take();
}

Result<UnmaskRequestMsg> UnmaskRequestMsg::Decode(std::span<const uint8_t> b) {
  ByteReader r(b);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kSecAggUnmaskRequest));
  UnmaskRequestMsg m;
  STRATA_ASSIGN_OR_RETURN(m.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(m.survivors, ReadIndices(r));
  STRATA_ASSIGN_OR_RETURN(m.dropped, ReadIndices(r));
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

std::vector<uint8_t> UnmaskResponseMsg::Encode(const AuthKey& token) const {
  ByteWriter w;
  WriteHeader(w, MessageType::kSecAggUnmaskResponse);
  w.U64(round_id);
  w.U32(sender);
  w.U32(static_cast<uint32_t>(shares.size()));
  for (const UnmaskedShare& s : shares) {
    w.U32(s.owner);
    w.U8(static_cast<uint8_t>(s.kind));
    for (size_t i = 0; i < kShareChunks; ++i) w.U64(i < s.y.size() ? s.y[i] : 0);
  }
  return Seal(w, token);
}

Result<UnmaskResponseMsg> UnmaskResponseMsg::Decode(std::span<const uint8_t> b,
                                                    std::span<const AuthKey> tokens) {
  STRATA_ASSIGN_OR_RETURN(auto body, Open(b, MessageType::kSecAggUnmaskResponse, tokens));
  ByteReader r(body);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kSecAggUnmaskResponse));
  UnmaskResponseMsg m;
  STRATA_ASSIGN_OR_RETURN(m.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(m.sender, r.U32());
  STRATA_ASSIGN_OR_RETURN(uint32_t n,
                          r.Count(kMaxSecAggNodes, 5 + 8 * kShareChunks, "unmask shares"));
  m.shares.resize(n);
  for (UnmaskedShare& s : m.shares) {
    STRATA_ASSIGN_OR_RETURN(s.owner, r.U32());
    STRATA_ASSIGN_OR_RETURN(uint8_t kind, r.U8());
    if (kind > 1) return InvalidArgumentError("bad share kind " + std::to_string(kind));
    s.kind = static_cast<ShareKind>(kind);
    s.y.resize(kShareChunks);
    for (uint64_t& v : s.y) {
      STRATA_ASSIGN_OR_RETURN(v, r.U64());
    }
  }
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace strata::federated
