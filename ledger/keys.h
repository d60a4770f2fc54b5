// Key encoders of the event store's column families (ledger/FORMAT.md). Integers are
// big-endian so that RocksDB's bytewise order is numeric order; strings are
// prefixed with their length in one byte (every id is at most 128 bytes), so
// no id is a prefix of another's key.
//
// Stateless functions; thread-safe.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/bytes.h"
#include "ledger/status.h"

namespace ledger::internal {

using ledger::AppendShortString;
using ledger::AppendU32BE;
using ledger::AppendU64BE;
using ledger::ReadU32BE;
using ledger::ReadU64BE;

// log: seq u64 BE (8 bytes).
inline std::string LogKey(uint64_t seq) {
  std::string key;
  AppendU64BE(seq, &key);
  return key;
}

// account_index: u8 len | account | seq u64 BE, the first of the account's
// events in one append batch. The value lists the account's later events of
// that batch, seq u64 BE each, ascending (empty: the key's event alone), so
// a batch writes one entry per account, not one per event. The empty
// account (len 0) indexes the ledger-wide events (price_set).
inline std::string AccountIndexPrefix(std::string_view account) {
  std::string key;
  AppendShortString(account, &key);
  return key;
}
inline std::string AccountIndexKey(std::string_view account, uint64_t seq) {
  std::string key = AccountIndexPrefix(account);
  AppendU64BE(seq, &key);
  return key;
}

// The events an account index entry files: the key's seq, then the value's.
class IndexedSeqs {
 public:
  IndexedSeqs(uint64_t first_seq, std::string_view value) : first_seq_(first_seq), value_(value) {}
  // Whole u64s, each after the one before.
  bool valid() const {
    if (value_.size() % 8 != 0) return false;
    for (size_t i = 1; i < size(); ++i) {
      if ((*this)[i] <= (*this)[i - 1]) return false;
    }
    return true;
  }
  size_t size() const { return 1 + value_.size() / 8; }
  uint64_t operator[](size_t i) const {
    return i == 0 ? first_seq_ : ReadU64BE(value_.substr(8 * (i - 1), 8));
  }

 private:
  uint64_t first_seq_;
  std::string_view value_;
};

// idempotency: the event id's bytes.
inline std::string_view IdempotencyKey(std::string_view event_id) { return event_id; }
// idempotency value: seq u64 BE | content digest [32].
inline constexpr size_t kIdempotencyValueBytes = 8 + 32;

// state: tag u8 | fields. Tags are frozen (FORMAT.md).
enum StateTag : char {
  kTagAccount = 'a',   // 'a' | account
  kTagResource = 'r',  // 'r' | u8 len | account | resource_id
  kTagOrder = 'o',     // 'o' | u8 len | account | order_id
  kTagPeriod = 'f',    // 'f' | u8 len | account | period index u32 BE
  kTagPrice = 'p',     // 'p' | u8 len | sku | u8 len | currency | effective_at u64 BE | seq u64 BE
  kTagMaxRated = 'm',  // 'm' | u8 len | sku | u8 len | currency
  kTagRenewal = 'n',   // 'n' | u8 len | account | resource_id
};

inline std::string AccountKey(std::string_view account) {
  std::string key(1, kTagAccount);
  key.append(account);
  return key;
}

// ScopedKey built in *key: a lookup that reuses one buffer allocates nothing.
inline void SetScopedKey(StateTag tag, std::string_view account, std::string_view id,
                         std::string* key) {
  key->assign(1, tag);
  AppendShortString(account, key);
  key->append(id);
}
inline std::string ScopedKey(StateTag tag, std::string_view account, std::string_view id) {
  std::string key;
  SetScopedKey(tag, account, id, &key);
  return key;
}

inline std::string PeriodKey(std::string_view account, uint32_t period_index) {
  std::string key(1, kTagPeriod);
  AppendShortString(account, &key);
  AppendU32BE(period_index, &key);
  return key;
}

// A price series' name (sku, currency), which its keys have after their tag.
inline void AppendPriceSeries(std::string_view sku, std::string_view currency, std::string* key) {
  AppendShortString(sku, key);
  AppendShortString(currency, key);
}
inline std::string PriceSeriesPrefix(StateTag tag, std::string_view sku, std::string_view currency) {
  std::string key(1, tag);
  AppendPriceSeries(sku, currency, &key);
  return key;
}

inline std::string PriceKey(std::string_view sku, std::string_view currency,
                            int64_t effective_at_s, uint64_t seq) {
  std::string key = PriceSeriesPrefix(kTagPrice, sku, currency);
  AppendU64BE(static_cast<uint64_t>(effective_at_s), &key);
  AppendU64BE(seq, &key);
  return key;
}

// usage_intervals: u8 len | account | u8 len | resource_id | from_s u64 BE.
// Value: to_s u64 BE. Accepted ticks of one resource, merged where they touch.
inline std::string IntervalPrefix(std::string_view account, std::string_view resource_id) {
  std::string key;
  AppendShortString(account, &key);
  AppendShortString(resource_id, &key);
  return key;
}
inline std::string IntervalKey(std::string_view prefix, int64_t from_s) {
  std::string key(prefix);
  AppendU64BE(static_cast<uint64_t>(from_s), &key);
  return key;
}

// meta (the default column family): fixed ASCII keys.
inline constexpr std::string_view kMetaFormatVersion = "format_version";  // u32 BE
inline constexpr std::string_view kMetaBillingOffset = "billing_offset_s";  // i32 as u32 BE
// seq u64 BE | hash [32] | recorded_at_us u64 BE | invoices u64 BE
inline constexpr std::string_view kMetaHead = "head";

}  // namespace ledger::internal
