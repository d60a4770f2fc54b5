// libFuzzer target: arbitrary bytes as a stored event value, through
// DecodeEnvelope (ledger/event_codec.h).
//
// DecodeEnvelope must return Ok or Corruption, never crash, throw or abort
// (an exception escaping here ends the run as a crash). When it returns Ok,
// EncodeEnvelope with the decoded prev_hash must give back the very same
// bytes: the encoding has one form per envelope, so a hash chain over
// re-encoded events always verifies. A body of an older class version
// re-encodes at the current one instead, to an envelope that decodes to
// the same fields and encodes the same way again.
//
// The input is tried twice: as it is (almost always stopped by the hash
// check), and sealed, with its last 32 bytes replaced by the right SHA-256
// and the format byte set, so that mutations reach the Cereal decoder behind
// the hash: what a bug that wrote a bad but well-hashed value would expose.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "ledger/event_codec.h"

namespace {

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

void DecodeAndCheck(std::string_view value) {
  ledger::Envelope envelope;
  const ledger::Status status = ledger::DecodeEnvelope(value, &envelope);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == ledger::Status::Code::kCorruption);
    return;
  }
  // Read every bool as a value: UBSan reports one that holds neither 0 nor 1.
  if (const auto* created = std::get_if<ledger::ResourceCreated>(&envelope.payload)) {
    volatile bool auto_renew = created->auto_renew;
    (void)auto_renew;
  }
  const ledger::Sha256 hash = envelope.hash;
  std::string encoded;
  ledger::EncodeEnvelope(envelope.prev_hash, &envelope, &encoded);
  // Format byte, Cereal's endianness byte, then the body's class version.
  const uint32_t body_version = static_cast<uint8_t>(value[2]) |
                                static_cast<uint32_t>(static_cast<uint8_t>(value[3])) << 8 |
                                static_cast<uint32_t>(static_cast<uint8_t>(value[4])) << 16 |
                                static_cast<uint32_t>(static_cast<uint8_t>(value[5])) << 24;
  if (body_version == ledger::kBodyClassVersion) {
    FUZZ_CHECK(encoded == value);
    FUZZ_CHECK(envelope.hash == hash);
    return;
  }
  ledger::Envelope again;
  FUZZ_CHECK(ledger::DecodeEnvelope(encoded, &again).ok());
  FUZZ_CHECK(again.rules_version == envelope.rules_version);
  std::string twice;
  ledger::EncodeEnvelope(again.prev_hash, &again, &twice);
  FUZZ_CHECK(twice == encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  DecodeAndCheck(input);

  constexpr size_t kHashBytes = sizeof(ledger::Sha256);
  std::string sealed(input.substr(0, size - std::min(size, kHashBytes)));
  if (sealed.empty()) sealed.push_back('\0');
  sealed[0] = static_cast<char>(ledger::kValueFormatV1);
  const ledger::Sha256 hash = ledger::HashBytes(sealed);
  sealed.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  DecodeAndCheck(sealed);
  return 0;
}
