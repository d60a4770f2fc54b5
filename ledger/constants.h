// Every limit of the ledger in one place. Each `*_max` bounds an input or a
// loop; the static_asserts below tie the ones that depend on each other.
//
// Changing a limit that shapes stored data (id lengths, money scales) changes
// what old logs may contain: only ever raise those, never lower them.

#pragma once

#include <cstddef>
#include <cstdint>

namespace ledger {

// Money scales: a charge is an integer count of 10^-8 currency units, a unit
// price an integer count of 10^-10 currency units (billing-rules.md section 3).
inline constexpr int kAmountScaleDigits = 8;
inline constexpr int kPriceScaleDigits = 10;
inline constexpr int64_t kAmountScale = 100'000'000;         // 10^8
inline constexpr int64_t kPriceScale = 10'000'000'000;       // 10^10
inline constexpr int64_t kPriceToAmountDivisor = kPriceScale / kAmountScale;

// Bounds on money. A unit price must fit an int64 at scale 10^10 (just under
// 922,337,204 units; ParseDecimal checks) and below kUnitPriceUnitsMax. One
// charge (a purchase, a renewal, an adjustment) is at most kAmountUnitsMax
// units: a larger product of price and quantity is rejected (invalid_field).
// Sums of many charges (invoice lines of hourly usage, totals) are kept in
// 128 bits, so no sum can wrap.
inline constexpr int64_t kUnitPriceUnitsMax = 1'000'000'000;
inline constexpr int64_t kAmountUnitsMax = 10'000'000'000;

// Identifiers (interface.md).
inline constexpr size_t kEventIdBytesMax = 128;
inline constexpr size_t kAccountIdBytesMax = 64;
inline constexpr size_t kResourceIdBytesMax = 64;
inline constexpr size_t kOrderIdBytesMax = 64;
inline constexpr size_t kSkuBytesMax = 64;
inline constexpr size_t kReasonBytesMax = 256;

// Input.
inline constexpr size_t kLineBytesMax = 64 * 1024;

// Quantities.
inline constexpr int64_t kSslDomainsMultiMin = 2;
inline constexpr int64_t kSslDomainsMultiMax = 250;
inline constexpr int64_t kSslYearsMax = 3;
inline constexpr int64_t kExpansionQuantityMax = 10'000;
inline constexpr int64_t kOrderMonthsMax = 11;
inline constexpr int64_t kOrderYearsMax = 3;

// Time. Events are accepted between 2000-01-01T00:00:00Z and
// 2200-01-01T00:00:00Z: a billing ledger has no business outside that range,
// and the bound keeps every date computed from an event (an expiry three years
// on) printable as a four-digit year.
inline constexpr int64_t kTimeMin_s = 946'684'800;    // 2000-01-01T00:00:00Z
inline constexpr int64_t kTimeMax_s = 7'258'118'400;  // 2200-01-01T00:00:00Z
inline constexpr int64_t kHour_s = 3600;
inline constexpr int64_t kTickDurationMax_s = 31 * 24 * kHour_s;
inline constexpr int64_t kSslRefundWindow_s = 7 * 24 * kHour_s;  // inclusive
inline constexpr int64_t kBillingOffsetMax_s = 14 * kHour_s;

// Append batching: one RocksDB WriteBatch and one WAL sync per batch. A
// projection record written many times in a batch (an hour, an invoice line,
// an account's counter) reaches RocksDB once per batch, so larger batches
// write fewer keys: 16,384 rather than 4,096 cut a bulk append's CPU by 18%
// at 1M events and its time by a quarter at 10M, where compactions share
// the cores. 32,768 gained no more. A reader that waits for input does not
// wait for a full batch (cli/commands.cc).
inline constexpr size_t kAppendBatchEventsMax = 16384;
inline constexpr size_t kAppendBatchBytesMax = 16 * 1024 * 1024;
// `ledger append` flushes the memtables before it exits when they hold more
// than this (EventStore::FlushMemtablesOver).
inline constexpr uint64_t kFlushAtExitBytesMin = 16 * 1024 * 1024;

// The billing rules' version. Each stored event records the version it was
// judged under (FORMAT.md, "log"), and `ledger verify` judges it again under
// that version, so that a rule added later does not condemn events stored
// before it. 1: the rules until 2026-11-28. 2: no event of an account dated
// before its opening, and no finalization of a period that ended before it.
// 3: no renewal, unsubscription or deletion of a subscription dated before a
// renewal of it already recorded (renewals judged under version 3 keep their
// time in the rules' state; earlier renewals have none to compare with).
inline constexpr uint32_t kRulesVersion = 3;

// The state cache is cleared between batches once it holds this many objects.
inline constexpr size_t kStateCacheEntriesMax = 1 << 20;

static_assert(kPriceScale % kAmountScale == 0, "a price scale must refine the amount scale");
static_assert(kSslDomainsMultiMin < kSslDomainsMultiMax);
static_assert(kTickDurationMax_s % kHour_s == 0);
static_assert(kAppendBatchBytesMax >= kAppendBatchEventsMax * 256,
              "a batch must be able to hold its event count of typical events");
static_assert(kLineBytesMax <= kAppendBatchBytesMax);

}  // namespace ledger
