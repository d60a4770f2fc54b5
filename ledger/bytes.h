// Byte coding shared by every key and fixed-size value of the ledger and its
// projections. Integers are big-endian, so RocksDB's bytewise order is
// numeric order; strings in keys are prefixed with their length in one byte,
// so no id is a prefix of another's key. Stateless; thread-safe.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ledger {

// Writes the 8 bytes of `value` at `out`.
inline void StoreU64BE(uint64_t value, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (56 - 8 * i));
}

inline void AppendU64BE(uint64_t value, std::string* out) {
  char bytes[8];
  StoreU64BE(value, bytes);
  out->append(bytes, sizeof bytes);
}

inline void AppendU32BE(uint32_t value, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

inline uint32_t ReadU32BE(std::string_view bytes) {
  LEDGER_CHECK(bytes.size() >= 4);
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline uint64_t ReadU64BE(std::string_view bytes) {
  LEDGER_CHECK(bytes.size() >= 8);
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline void AppendShortString(std::string_view text, std::string* out) {
  LEDGER_CHECK(text.size() <= 255);
  out->push_back(static_cast<char>(text.size()));
  out->append(text);
}

}  // namespace ledger
