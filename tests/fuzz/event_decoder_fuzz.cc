// libFuzzer target: arbitrary bytes as a stored event value, through
// DecodeEnvelope (ledger/event_codec.h).
//
// DecodeEnvelope must return Ok or Corruption, never crash, throw or abort
// (an exception escaping here ends the run as a crash). When it returns Ok,
// EncodeEnvelope with the decoded prev_hash must give back the very same
// bytes: the encoding has one form per envelope, so a hash chain over
// re-encoded events always verifies. A version-1 body (before the rules
// version) re-encodes as version 2 exactly: its version byte raised, rules
// version 1 appended to the body, and sealed again.
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
  FUZZ_CHECK(body_version == 1);
  std::string upgraded(value.substr(0, value.size() - 64));  // format byte and body
  upgraded[2] = 2;
  upgraded.append("\x01\0\0\0", 4);                      // rules version 1
  upgraded.append(value.substr(value.size() - 64, 32));  // prev_hash
  const ledger::Sha256 sealed = ledger::HashBytes(upgraded);
  upgraded.append(reinterpret_cast<const char*>(sealed.data()), sealed.size());
  FUZZ_CHECK(encoded == upgraded);
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
