// Encoding of stored events (ledger/FORMAT.md, "log"). A stored value is
//
//   u8 value_format | body | prev_hash[32] | hash[32]
//
// where body is the Cereal portable-binary encoding of the envelope's other
// fields, and hash = SHA-256 of every byte before it (format byte, body and
// prev_hash). Thread-safe: stateless functions.

#pragma once

#include <string>
#include <string_view>

#include "ledger/event.h"
#include "ledger/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace ledger {

inline constexpr uint8_t kValueFormatV1 = 1;
// The class version of the body EncodeEnvelope writes (FORMAT.md, "log");
// DecodeEnvelope reads version 1 too.
inline constexpr std::uint32_t kBodyClassVersion = 2;

// Encodes `envelope` (ignoring its hash fields), chains it to `prev_hash`,
// sets envelope->prev_hash and envelope->hash, and appends the value to *out.
void EncodeEnvelope(const Sha256& prev_hash, Envelope* envelope, std::string* out);

// Decodes a stored value. Checks the value's own hash (a flipped bit anywhere
// is Corruption); the chain to the previous event is the caller's to check.
Status DecodeEnvelope(std::string_view value, Envelope* envelope);

// The SHA-256 of `bytes`.
Sha256 HashBytes(std::string_view bytes);

// SHA-256 over input given in pieces. Not thread-safe; one per computation.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view bytes);
  Sha256 Finish();

 private:
  ::evp_md_ctx_st* context_;
};
std::string HexOf(const Sha256& hash);

}  // namespace ledger
