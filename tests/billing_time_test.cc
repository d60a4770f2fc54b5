#include "ledger/billing_time.h"

#include <gtest/gtest.h>

namespace ledger {
namespace {

const BillingZone kZone(8 * 3600);

int64_t At(const char* text) {
  const std::optional<int64_t> time_s = ParseRfc3339_s(text);
  EXPECT_TRUE(time_s.has_value()) << text;
  return time_s.value_or(0);
}

TEST(BillingTimeTest, ParsesOffsetsToTheSameInstant) {
  EXPECT_EQ(At("2026-06-30T14:25:30Z"), At("2026-06-30T22:25:30+08:00"));
  EXPECT_EQ(At("2026-06-30T14:25:30z"), At("2026-06-30t14:25:30Z"));
  EXPECT_EQ(At("2026-01-01T00:00:00-05:30"), At("2026-01-01T05:30:00Z"));
  EXPECT_EQ(At("1970-01-01T00:00:00Z"), 0);
}

TEST(BillingTimeTest, RejectsAnythingButWholeSecondsWithAnOffset) {
  const char* bad[] = {
      "2026-06-30T14:25:30",         // no offset
      "2026-06-30T14:25:30.5Z",      // fractional seconds
      "2026-06-30T14:25:30.000Z",    // fractional seconds, even zero
      "2026-02-30T00:00:00Z",        // no such day
      "2026-13-01T00:00:00Z",        // no such month
      "2026-06-30T24:00:00Z",        // hour 24
      "2026-06-30T23:60:00Z",        // minute 60
      "2026-06-30T23:59:60Z",        // leap second
      "2026-06-30 14:25:30Z",        // space instead of T
      "2026-06-30T14:25:30+0800",    // offset without colon
      "2026-06-30T14:25:30+15:00",   // offset beyond 14 h
      "26-06-30T14:25:30Z",          // short year
      "",
  };
  for (const char* text : bad) EXPECT_FALSE(ParseRfc3339_s(text).has_value()) << text;
}

TEST(BillingTimeTest, FormatsInTheBillingZone) {
  EXPECT_EQ(kZone.Format(At("2026-06-30T14:25:30Z")), "2026-06-30T22:25:30+08:00");
  EXPECT_EQ(BillingZone(-5 * 3600 - 1800).Format(At("2026-01-01T05:30:00Z")),
            "2026-01-01T00:00:00-05:30");
  EXPECT_EQ(BillingZone(0).Format(0), "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(BillingZone(0).Format(-1), "1969-12-31T23:59:59+00:00");
  EXPECT_EQ(BillingZone(14 * 3600).Format(At("9999-12-31T09:59:59Z")), "9999-12-31T23:59:59+14:00");
  // Beyond four-digit years the text is no RFC 3339 time, and says so.
  EXPECT_EQ(BillingZone(0).Format(At("9999-12-31T23:59:59Z") + 1), "10000-01-01T00:00:00+00:00");
}

TEST(BillingTimeTest, FormattedTimesParseBackToTheSameInstant) {
  // Every zone offset in quarter hours, times from year 1 to 9999 in steps
  // that land on every second of the minute and every hour of the day.
  const int64_t first_s = At("0001-01-02T00:00:00Z");
  const int64_t last_s = At("9999-12-30T00:00:00Z");
  for (int32_t offset_s = -14 * 3600; offset_s <= 14 * 3600; offset_s += 900) {
    const BillingZone zone(offset_s);
    for (int64_t time_s = first_s; time_s < last_s; time_s += 86'400 * 367 + 3'607) {
      const std::string text = zone.Format(time_s);
      ASSERT_EQ(ParseRfc3339_s(text), time_s) << text;
    }
  }
}

TEST(BillingTimeTest, HoursAreClockHoursOfTheZone) {
  EXPECT_EQ(kZone.HourStart(At("2026-06-30T22:25:30+08:00")), At("2026-06-30T22:00:00+08:00"));
  EXPECT_EQ(kZone.HourStart(At("2026-06-30T22:00:00+08:00")), At("2026-06-30T22:00:00+08:00"));
  // A half-hour zone has its hours at :30 UTC.
  EXPECT_EQ(BillingZone(5 * 3600 + 1800).HourStart(At("2026-01-01T00:45:00Z")),
            At("2026-01-01T00:30:00Z"));
}

TEST(BillingTimeTest, PeriodsAreMonthsOfTheZone) {
  // 16:40 UTC on June 30 is already July in +08:00.
  EXPECT_EQ(kZone.PeriodOf(At("2026-06-30T16:40:00Z")), (Period{2026, 7}));
  EXPECT_EQ(kZone.PeriodOf(At("2026-06-30T15:59:59Z")), (Period{2026, 6}));
  EXPECT_EQ(kZone.PeriodStart(Period{2026, 5}), At("2026-05-01T00:00:00+08:00"));
  EXPECT_EQ((Period{2026, 12}).Next(), (Period{2027, 1}));
  EXPECT_EQ(FormatPeriod(Period{2026, 4}), "2026-04");
  EXPECT_EQ(ParsePeriod("2026-04"), (Period{2026, 4}));
  EXPECT_FALSE(ParsePeriod("2026-13").has_value());
  EXPECT_FALSE(ParsePeriod("2026-4").has_value());
}

TEST(BillingTimeTest, SubscriptionEndsAtTheEndOfTheExpiryDateClamped) {
  // billing-rules.md section 6.
  EXPECT_EQ(kZone.Format(kZone.EndOfDayMonthsLater(At("2023-07-30T15:50:04+08:00"), 1)),
            "2023-08-30T23:59:59+08:00");
  EXPECT_EQ(kZone.Format(kZone.EndOfDayMonthsLater(At("2026-01-31T10:00:00+08:00"), 1)),
            "2026-02-28T23:59:59+08:00");
  // A renewal extends from the previous expiry date: 02-28 + 1 month = 03-28.
  EXPECT_EQ(kZone.Format(kZone.EndOfDayMonthsLater(At("2026-02-28T23:59:59+08:00"), 1)),
            "2026-03-28T23:59:59+08:00");
  EXPECT_EQ(kZone.Format(kZone.EndOfDayMonthsLater(At("2026-03-01T00:30:00+08:00"), 12)),
            "2027-03-01T23:59:59+08:00");
  EXPECT_EQ(kZone.Format(kZone.EndOfDayMonthsLater(At("2024-02-29T12:00:00+08:00"), 12)),
            "2025-02-28T23:59:59+08:00");
  EXPECT_EQ(kZone.Format(kZone.EndOfDayMonthsLater(At("2026-12-15T12:00:00+08:00"), 1)),
            "2027-01-15T23:59:59+08:00");
}

TEST(BillingTimeTest, UtcOffsets) {
  EXPECT_EQ(ParseUtcOffset_s("+08:00"), 8 * 3600);
  EXPECT_EQ(ParseUtcOffset_s("-05:30"), -(5 * 3600 + 1800));
  EXPECT_EQ(ParseUtcOffset_s("Z"), 0);
  EXPECT_FALSE(ParseUtcOffset_s("+8").has_value());
  EXPECT_EQ(FormatUtcOffset(-(5 * 3600 + 1800)), "-05:30");
  EXPECT_EQ(FormatUtcOffset(0), "+00:00");
}

}  // namespace
}  // namespace ledger
