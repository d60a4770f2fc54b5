// Keys and records of the projections' column families (ledger/FORMAT.md,
// "Projections"). Every record is a deterministic function of the log.
//
// DO NOT CHANGE THE TAGS OR ENUM VALUES: they are stored.

#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>
#include <array>
#include <cstdint>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "ledger/billing_time.h"
#include "ledger/bytes.h"
#include "ledger/cereal_io.h"
#include "ledger/event.h"
#include "ledger/money.h"
#include "projections/line_kind.h"

namespace ledger::projections::internal {

// The checkpoint of every projection family: the last sequence applied.
inline const std::string kCheckpointKey(1, '\0');

enum Tag : char {
  kTagAccount = 'a',      // invoices: 'a' | account -> currency
  kTagResource = 'r',     // invoices: 'r' | short account | resource -> u8 ca_type | u8 unit
  kTagHour = 'h',         // usage, invoices: 'h' | short account | resource \0 | hour_start u64
  kTagChargeLine = 'c',   // invoices: 'c' | short account | period u32 | charged_at u64 | seq u64 | u8 index
  kTagUsageLine = 'u',    // invoices: 'u' | short account | period u32 | resource \0 | late_from u32
  kTagFinalized = 'f',    // invoices: 'f' | short account | period u32 -> number u64 | seq u64
  kTagSubscription = 's', // subscriptions: 's' | short account | resource
};

// An account's keys in every read-model family: its AccountKey, and the
// keys under AccountScoped(tag, account) for these tags, in key order. A new
// tag must be listed here, or snapshots would leave its keys out (the
// snapshot tests compare snapshots with full replays, family by family).
inline constexpr Tag kAccountScopedTags[] = {kTagChargeLine, kTagFinalized,    kTagHour,
                                             kTagResource,   kTagSubscription, kTagUsageLine};

inline uint32_t PeriodKey(Period period) { return static_cast<uint32_t>(period.Index()); }

inline std::string AccountKey(std::string_view account) {
  std::string key(1, kTagAccount);
  key.append(account);
  return key;
}

// The Set* builders below write a key into a caller's buffer (cleared
// first): the projections keep one per key they build for every usage tick,
// instead of a fresh 30-40 byte std::string each (a malloc and a free; about
// 3% of a replay's CPU). The std::string forms are for the rest.
inline void SetAccountScoped(Tag tag, std::string_view account, std::string* key) {
  key->clear();
  key->push_back(static_cast<char>(tag));
  AppendShortString(account, key);
}

// `more_bytes`: what the caller appends, so that the key is allocated once.
inline std::string AccountScoped(Tag tag, std::string_view account, size_t more_bytes = 0) {
  std::string key;
  key.reserve(2 + account.size() + more_bytes);
  SetAccountScoped(tag, account, &key);
  return key;
}

inline std::string ResourceKey(Tag tag, std::string_view account, std::string_view resource_id) {
  std::string key = AccountScoped(tag, account, resource_id.size());
  key.append(resource_id);
  return key;
}

// Where keys must sort by resource id (usage rows, hourly_usage lines), the
// id is written as itself and ended by a zero byte, which no id contains:
// "ab" then "abc", where a length prefix would sort by length first.
inline void AppendSortableId(std::string_view id, std::string* key) {
  key->append(id);
  key->push_back('\0');
}

inline void SetHourKey(std::string_view account, std::string_view resource_id, int64_t hour_start_s,
                       std::string* key) {
  SetAccountScoped(kTagHour, account, key);
  AppendSortableId(resource_id, key);
  AppendU64BE(static_cast<uint64_t>(hour_start_s), key);
}

inline std::string HourKey(std::string_view account, std::string_view resource_id,
                           int64_t hour_start_s) {
  std::string key;
  key.reserve(2 + account.size() + resource_id.size() + 1 + 8);
  SetHourKey(account, resource_id, hour_start_s, &key);
  return key;
}

inline void SetPeriodScoped(Tag tag, std::string_view account, Period period, std::string* key) {
  SetAccountScoped(tag, account, key);
  AppendU32BE(PeriodKey(period), key);
}

inline std::string PeriodScoped(Tag tag, std::string_view account, Period period,
                                size_t more_bytes = 0) {
  std::string key;
  key.reserve(2 + account.size() + 4 + more_bytes);
  SetPeriodScoped(tag, account, period, &key);
  return key;
}

inline std::string ChargeLineKey(std::string_view account, Period period, int64_t charged_at_s,
                                 uint64_t seq, uint8_t index) {
  std::string key = PeriodScoped(kTagChargeLine, account, period, 8 + 8 + 1);
  AppendU64BE(static_cast<uint64_t>(charged_at_s), &key);
  AppendU64BE(seq, &key);
  key.push_back(static_cast<char>(index));
  return key;
}

// late_from is 0 for usage billed in its own period, else the original
// period's key + 1.
inline void SetUsageLineKey(std::string_view account, Period period, std::string_view resource_id,
                            uint32_t late_from, std::string* key) {
  SetPeriodScoped(kTagUsageLine, account, period, key);
  AppendSortableId(resource_id, key);
  AppendU32BE(late_from, key);
}

inline std::string UsageLineKey(std::string_view account, Period period,
                                std::string_view resource_id, uint32_t late_from) {
  std::string key;
  key.reserve(2 + account.size() + 4 + resource_id.size() + 1 + 4);
  SetUsageLineKey(account, period, resource_id, late_from, &key);
  return key;
}

// The smallest key after every key starting with `prefix`.
inline std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

// The [begin, end) ranges holding exactly `account`'s keys of a read-model
// family, in key order ('a' sorts before every account-scoped tag).
inline std::vector<std::pair<std::string, std::string>> AccountKeyRanges(std::string_view account) {
  std::vector<std::pair<std::string, std::string>> ranges;
  // 'a' | account alone: no account id contains a zero byte, so the range
  // up to 'a' | account \0 holds no other account's key.
  ranges.emplace_back(AccountKey(account), AccountKey(account) + '\0');
  for (const Tag tag : kAccountScopedTags) {
    std::string prefix = AccountScoped(tag, account);
    std::string end = PrefixEnd(prefix);
    ranges.emplace_back(std::move(prefix), std::move(end));
  }
  return ranges;
}

// proj_snapshots (projections/snapshot_projection.h). Its own tags.
enum SnapshotTag : char {
  kTagSnapshotCounter = 'n',  // 'n' | short account -> events u64 | next_snapshot_events u64
  kTagSnapshot = 's',         // 's' | short account | seq u64 -> snapshot value
};

inline void SetSnapshotCounterKey(std::string_view account, std::string* key) {
  key->clear();
  key->push_back(kTagSnapshotCounter);
  AppendShortString(account, key);
}

inline std::string SnapshotCounterKey(std::string_view account) {
  std::string key;
  key.reserve(2 + account.size());
  SetSnapshotCounterKey(account, &key);
  return key;
}

inline std::string SnapshotPrefix(std::string_view account) {
  std::string key(1, kTagSnapshot);
  AppendShortString(account, &key);
  return key;
}

inline std::string SnapshotKey(std::string_view account, uint64_t seq) {
  std::string key = SnapshotPrefix(account);
  AppendU64BE(seq, &key);
  return key;
}

// A charge line: everything on an invoice but hourly usage.
struct ChargeLine {
  LineKind kind = LineKind::kNewPurchase;
  std::string event_id;
  std::string resource_id;
  std::string order_id;
  int64_t charged_at_s = 0;
  std::string description;
  int64_t amount_e8 = 0;
  int64_t list_amount_e8 = 0;  // 0: no list amount shown
  uint32_t late_from = 0;      // as in UsageLineKey
  std::string reason;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(kind, event_id, resource_id, order_id, charged_at_s, description, amount_e8, list_amount_e8,
       late_from, reason);
  }
};

// A resource in the subscriptions projection. `ends` holds, per order, when
// it was placed and the paid-up end it gave: the end at time t is that of the
// last order placed by t.
struct SubscriptionRecord {
  ResourceType resource_type = ResourceType::kPrivateCert;
  CaType ca_type = CaType::kNone;
  BillingMode billing_mode = BillingMode::kPayPerUse;
  PeriodUnit period_unit = PeriodUnit::kNone;
  bool auto_renew = false;
  int64_t created_at_s = 0;
  int64_t deleted_at_s = 0;       // 0: not deleted
  int64_t unsubscribed_at_s = 0;  // 0: not unsubscribed
  std::vector<std::pair<int64_t, int64_t>> ends;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(resource_type, ca_type, billing_mode, period_unit, CheckedBool{auto_renew}, created_at_s,
       deleted_at_s, unsubscribed_at_s, ends);
  }
};

// A fixed-size value built on the stack: the projections write a few per
// event, and a std::string of 16 or 24 bytes is a heap allocation each.
template <size_t N>
struct FixedValue {
  std::array<char, N> bytes{};
  size_t size = 0;

  void AppendU64BE(uint64_t value) {
    StoreU64BE(value, bytes.data() + size);
    size += 8;
  }
  operator std::string_view() const { return std::string_view(bytes.data(), size); }
};

// Two u64 values as one 16-byte value: hour and usage-line records.
inline FixedValue<16> PairValue(uint64_t first, uint64_t second) {
  FixedValue<16> value;
  value.AppendU64BE(first);
  value.AppendU64BE(second);
  return value;
}

// An hourly_usage line: seconds u64 | amount i128 as two u64 (high, low).
// A month of hours at the highest price passes 2^63 units of 10^-8, so the
// sum is kept in 128 bits, like invoice totals.
inline FixedValue<24> UsageLineValue(uint64_t seconds, Int128 amount_e8) {
  FixedValue<24> value;
  value.AppendU64BE(seconds);
  const auto bits = static_cast<unsigned __int128>(amount_e8);
  value.AppendU64BE(static_cast<uint64_t>(bits >> 64));
  value.AppendU64BE(static_cast<uint64_t>(bits));
  return value;
}
inline constexpr size_t kUsageLineValueBytes = 24;
inline Int128 UsageLineAmount(std::string_view value) {
  const unsigned __int128 bits =
      (static_cast<unsigned __int128>(ReadU64BE(value.substr(8))) << 64) | ReadU64BE(value.substr(16));
  return static_cast<Int128>(bits);
}

}  // namespace ledger::projections::internal

CEREAL_CLASS_VERSION(ledger::projections::internal::ChargeLine, 1)
CEREAL_CLASS_VERSION(ledger::projections::internal::SubscriptionRecord, 1)
