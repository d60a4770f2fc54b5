#include "ledger/billing_time.h"

#include <chrono>
#include <cstdio>

#include "ledger/constants.h"

namespace ledger {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr int64_t kDay_s = 24 * kHour_s;

// Reads exactly `count` ASCII digits at `pos`; -1 if any is not a digit.
int ReadDigits(std::string_view text, size_t pos, size_t count) {
  if (pos + count > text.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t DaysFromCivil(int year, unsigned month, unsigned day) {
  return sys_days{
      year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}}
      .time_since_epoch()
      .count();
}

year_month_day CivilFromDays(int64_t days_since_epoch) {
  return year_month_day{sys_days{days{days_since_epoch}}};
}

}  // namespace

std::optional<int32_t> ParseUtcOffset_s(std::string_view text) {
  if (text == "Z" || text == "z") return 0;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') {
    return std::nullopt;
  }
  const int hours = ReadDigits(text, 1, 2);
  const int minutes = ReadDigits(text, 4, 2);
  if (hours < 0 || minutes < 0 || minutes > 59) return std::nullopt;
  const int32_t offset_s = hours * 3600 + minutes * 60;
  if (offset_s > kBillingOffsetMax_s) return std::nullopt;
  return text[0] == '-' ? -offset_s : offset_s;
}

std::string FormatUtcOffset(int32_t offset_s) {
  const int32_t magnitude = offset_s < 0 ? -offset_s : offset_s;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", offset_s < 0 ? '-' : '+', magnitude / 3600,
                (magnitude % 3600) / 60);
  return buffer;
}

std::optional<int64_t> ParseRfc3339_s(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS then Z or +hh:mm: 20 or 25 bytes.
  if (text.size() != 20 && text.size() != 25) return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const int year = ReadDigits(text, 0, 4);
  const int month = ReadDigits(text, 5, 2);
  const int day = ReadDigits(text, 8, 2);
  const int hour = ReadDigits(text, 11, 2);
  const int minute = ReadDigits(text, 14, 2);
  const int second = ReadDigits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  const year_month_day date{std::chrono::year{year},
                            std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  const std::optional<int32_t> offset_s = ParseUtcOffset_s(text.substr(19));
  if (!offset_s) return std::nullopt;
  const int64_t local_s =
      sys_days{date}.time_since_epoch().count() * kDay_s + hour * 3600 + minute * 60 + second;
  return local_s - *offset_s;
}

Period Period::Next() const { return month == 12 ? Period{year + 1, 1} : Period{year, month + 1}; }

std::optional<Period> ParsePeriod(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  const int year = ReadDigits(text, 0, 4);
  const int month = ReadDigits(text, 5, 2);
  if (year < 0 || month < 1 || month > 12) return std::nullopt;
  return Period{year, month};
}

std::string FormatPeriod(Period period) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d", period.year, period.month);
  return buffer;
}

std::string BillingZone::Format(int64_t time_s) const {
  const int64_t local_s = time_s + offset_s_;
  const int64_t day_index = FloorDiv(local_s, kDay_s);
  const int64_t second_of_day = local_s - day_index * kDay_s;
  const year_month_day date = CivilFromDays(day_index);
  const int year = static_cast<int>(date.year());
  const int32_t offset_magnitude_s = offset_s_ < 0 ? -offset_s_ : offset_s_;
  if (year < 0 || year > 9999) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d%s", year,
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(second_of_day / 3600),
                  static_cast<int>(second_of_day % 3600 / 60), static_cast<int>(second_of_day % 60),
                  FormatUtcOffset(offset_s_).c_str());
    return buffer;
  }
  // Written digit by digit: exports and typed appends format every time.
  std::string text = "0000-00-00T00:00:00+00:00";
  const auto put = [&text](size_t at, int64_t value, size_t width) {
    for (size_t i = width; i > 0; --i, value /= 10)
      text[at + i - 1] = static_cast<char>('0' + value % 10);
  };
  put(0, year, 4);
  put(5, static_cast<unsigned>(date.month()), 2);
  put(8, static_cast<unsigned>(date.day()), 2);
  put(11, second_of_day / 3600, 2);
  put(14, second_of_day % 3600 / 60, 2);
  put(17, second_of_day % 60, 2);
  text[19] = offset_s_ < 0 ? '-' : '+';
  put(20, offset_magnitude_s / 3600, 2);
  put(23, offset_magnitude_s % 3600 / 60, 2);
  return text;
}

int64_t BillingZone::HourStart(int64_t time_s) const {
  return FloorDiv(time_s + offset_s_, kHour_s) * kHour_s - offset_s_;
}

Period BillingZone::PeriodOf(int64_t time_s) const {
  const year_month_day date = CivilFromDays(FloorDiv(time_s + offset_s_, kDay_s));
  return Period{static_cast<int32_t>(static_cast<int>(date.year())),
                static_cast<int32_t>(static_cast<unsigned>(date.month()))};
}

int64_t BillingZone::PeriodStart(Period period) const {
  return DaysFromCivil(period.year, static_cast<unsigned>(period.month), 1) * kDay_s - offset_s_;
}

int64_t BillingZone::EndOfDayMonthsLater(int64_t time_s, int32_t months) const {
  const year_month_day date = CivilFromDays(FloorDiv(time_s + offset_s_, kDay_s));
  const std::chrono::year_month target =
      std::chrono::year_month{date.year(), date.month()} + std::chrono::months{months};
  const std::chrono::day last_day = std::chrono::year_month_day_last{
      target.year(),
      std::chrono::month_day_last{
          target.month()}}.day();
  const std::chrono::day day = date.day() <= last_day ? date.day() : last_day;
  const int64_t day_index =
      sys_days{year_month_day{target.year(), target.month(), day}}.time_since_epoch().count();
  return day_index * kDay_s + kDay_s - 1 - offset_s_;
}

}  // namespace ledger
