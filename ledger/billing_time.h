// Time in the ledger: int64 Unix seconds (`*_s`), whole seconds only, and the
// billing zone, a fixed UTC offset chosen when a ledger is created
// (billing-rules.md section 2). An `hour` is a clock hour and a `period` a
// calendar month, both in the billing zone.
//
// Stateless functions and small value types; thread-safe.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ledger {

// "2026-04-02T09:00:00+08:00", "2026-04-02T01:00:00Z": RFC 3339 with whole
// seconds and an explicit offset. Returns nullopt for anything else, including
// fractional seconds, a missing offset and impossible dates.
std::optional<int64_t> ParseRfc3339_s(std::string_view text);

// "+08:00", "-05:30", "Z" into an offset in seconds.
std::optional<int32_t> ParseUtcOffset_s(std::string_view text);
std::string FormatUtcOffset(int32_t offset_s);

// A billing month, e.g. 2026-04.
struct Period {
  int32_t year = 0;
  int32_t month = 0;  // 1..12

  friend bool operator==(const Period&, const Period&) = default;
  friend auto operator<=>(const Period&, const Period&) = default;
  Period Next() const;
  // Months since year 0, a dense index usable as a key.
  int32_t Index() const { return year * 12 + (month - 1); }
  static Period FromIndex(int32_t index) { return Period{index / 12, index % 12 + 1}; }
};

// "YYYY-MM".
std::optional<Period> ParsePeriod(std::string_view text);
std::string FormatPeriod(Period period);

// The billing zone: every calendar computation of the ledger goes through it.
class BillingZone {
 public:
  explicit BillingZone(int32_t offset_s) : offset_s_(offset_s) {}

  int32_t offset_s() const { return offset_s_; }
  // "2026-04-02T09:00:00+08:00".
  std::string Format(int64_t time_s) const;
  // The start of the hour containing `time_s`.
  int64_t HourStart(int64_t time_s) const;
  Period PeriodOf(int64_t time_s) const;
  int64_t PeriodStart(Period period) const;
  // 23:59:59 of the date `months` calendar months after the date of `time_s`,
  // clamped to the month's last day: 2026-01-31 + 1 month -> 2026-02-28T23:59:59.
  int64_t EndOfDayMonthsLater(int64_t time_s, int32_t months) const;

 private:
  int32_t offset_s_;
};

}  // namespace ledger
