// Pay-per-use usage ticks (billing-rules.md sections 4 and 5): the life of a
// resource, tick length, overlap, hour splitting and the price of each hour.

#include <map>

#include "ledger/sku.h"
#include "tests/ledger_test_util.h"

namespace ledger::test_util {
namespace {

// Prices, the account `acme` (USD) and the pay-per-use certificate `pc-1`,
// created 2026-03-02 08:00 local, for the tests that only look at ticks.
std::vector<Step> CertSetup(std::string_view unit_price = "0.0017") {
  return {
      {PriceSet("price-cert", "private_cert/hour", "USD", unit_price, "2026-03-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("create", "acme", "pc-1", "2026-03-02T08:00:00"), "appended"},
  };
}

// The seconds of each hour start over the stored usage events `seqs`.
std::map<int64_t, int64_t> SecondsPerHour(const TestLedger& ledger,
                                          std::span<const uint64_t> seqs) {
  std::map<int64_t, int64_t> seconds;
  for (const uint64_t seq : seqs) {
    for (const HourSlice& hour : ledger.Stored(seq).rating.hours) {
      seconds[hour.hour_start_s] += hour.seconds;
    }
  }
  return seconds;
}

using RulesUsageTest = RulesTest;

TEST_F(RulesUsageTest, TickMustLieInsideTheResourceLife) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      // Created 08:00:00: a tick may start exactly then, not a second before.
      {Tick("t-early", "acme", "pc-1", "2026-03-02T07:59:59", "2026-03-02T08:30:00"),
       "usage_outside_lifetime"},
      {Tick("t-first", "acme", "pc-1", "2026-03-02T08:00:00", "2026-03-02T08:30:00"), "appended"},
      {Deleted("delete", "acme", "pc-1", "2026-03-02T12:00:00"), "appended"},
      // Ticks for time before the deletion may arrive after it; they may end
      // exactly at the deletion time, not a second later.
      {Tick("t-past", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T12:00:01"),
       "usage_outside_lifetime"},
      {Tick("t-last", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T12:00:00"), "appended"},
      {Tick("t-gap", "acme", "pc-1", "2026-03-02T08:30:00", "2026-03-02T11:00:00"), "appended"},
      // Both ends outside.
      {Tick("t-around", "acme", "pc-1", "2026-03-02T07:00:00", "2026-03-02T13:00:00"),
       "usage_outside_lifetime"},
  };
  RunSteps(ledger_, steps);
}

// SPEC READING: a tick that starts at or after the deletion is use of a
// deleted resource, `resource_deleted` (interface.md orders it before
// usage_outside_lifetime); one that starts before the deletion and ends after
// it lies partly outside the life, `usage_outside_lifetime` (section 5).
TEST_F(RulesUsageTest, TickWhollyAfterTheDeletionIsResourceDeleted) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {Deleted("delete", "acme", "pc-1", "2026-03-02T12:00:00"), "appended"},
      {Tick("t-at", "acme", "pc-1", "2026-03-02T12:00:00", "2026-03-02T12:10:00"),
       "resource_deleted"},
      {Tick("t-after", "acme", "pc-1", "2026-03-03T00:00:00", "2026-03-03T01:00:00"),
       "resource_deleted"},
      {Tick("t-across", "acme", "pc-1", "2026-03-02T11:59:59", "2026-03-02T12:00:01"),
       "usage_outside_lifetime"},
  };
  RunSteps(ledger_, steps);
}

// SPEC READING: accepted usage must stay inside the life (section 5), so a
// deletion dated before the end of accepted usage is rejected with the code
// of that rule, usage_outside_lifetime.
TEST_F(RulesUsageTest, DeletionCannotBeDatedBeforeAcceptedUsage) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {Tick("t-1", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      {Deleted("delete-early", "acme", "pc-1", "2026-03-02T10:59:59"), "usage_outside_lifetime"},
      {Deleted("delete", "acme", "pc-1", "2026-03-02T11:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesUsageTest, TickLengthIsPositiveAndAtMost31Days) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {Tick("t-empty", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T10:00:00"),
       "invalid_field"},
      {Tick("t-backwards", "acme", "pc-1", "2026-03-02T10:00:01", "2026-03-02T10:00:00"),
       "invalid_field"},
      {Tick("t-second", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T10:00:01"), "appended"},
      // 2026-03-03 00:00 + 31 days = 2026-04-03 00:00.
      {Tick("t-long", "acme", "pc-1", "2026-03-03T00:00:00", "2026-04-03T00:00:01"),
       "invalid_field"},
      {Tick("t-31-days", "acme", "pc-1", "2026-03-03T00:00:00", "2026-04-03T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope month = ledger_.Stored(ledger_.ledger().head().seq);
  EXPECT_EQ(month.rating.hours.size(), 31u * 24u);
}

TEST_F(RulesUsageTest, TouchingTicksAreAcceptedOverlappingOnesAreNot) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {Tick("t-10", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      {Tick("t-11", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T12:00:00"), "appended"},
      {Tick("t-end-1s", "acme", "pc-1", "2026-03-02T11:59:59", "2026-03-02T12:30:00"),
       "usage_overlap"},
      {Tick("t-start-1s", "acme", "pc-1", "2026-03-02T09:00:00", "2026-03-02T10:00:01"),
       "usage_overlap"},
      {Tick("t-inside", "acme", "pc-1", "2026-03-02T10:15:00", "2026-03-02T10:16:00"),
       "usage_overlap"},
      {Tick("t-cover", "acme", "pc-1", "2026-03-02T09:00:00", "2026-03-02T13:00:00"),
       "usage_overlap"},
      {Tick("t-same", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "usage_overlap"},
      {Tick("t-09", "acme", "pc-1", "2026-03-02T09:00:00", "2026-03-02T10:00:00"), "appended"},
      {Tick("t-12", "acme", "pc-1", "2026-03-02T12:00:00", "2026-03-02T12:30:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

// Ticks into the gaps between accepted ones, touching and overlapping them.
std::vector<Step> GapFillingTicks() {
  return {
      {Tick("t-10", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      {Tick("t-12", "acme", "pc-1", "2026-03-02T12:00:00", "2026-03-02T13:00:00"), "appended"},
      {Tick("t-15", "acme", "pc-1", "2026-03-02T15:00:00", "2026-03-02T16:00:00"), "appended"},
      // Into the gap [11:00, 12:00), overlapping a neighbour by one second.
      {Tick("g-over-next", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T12:00:01"),
       "usage_overlap"},
      {Tick("g-over-prev", "acme", "pc-1", "2026-03-02T10:59:59", "2026-03-02T12:00:00"),
       "usage_overlap"},
      // Into the gap, touching neither neighbour, then each one.
      {Tick("g-mid", "acme", "pc-1", "2026-03-02T11:20:00", "2026-03-02T11:40:00"), "appended"},
      {Tick("g-left", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T11:20:00"), "appended"},
      {Tick("g-right", "acme", "pc-1", "2026-03-02T11:40:00", "2026-03-02T12:00:00"), "appended"},
      // [10:00, 13:00) is now used throughout.
      {Tick("o-1", "acme", "pc-1", "2026-03-02T11:30:00", "2026-03-02T11:30:01"), "usage_overlap"},
      {Tick("o-2", "acme", "pc-1", "2026-03-02T12:59:59", "2026-03-02T13:00:01"), "usage_overlap"},
      // The gap [13:00, 15:00), filled touching both sides at once.
      {Tick("g-both", "acme", "pc-1", "2026-03-02T13:00:00", "2026-03-02T15:00:00"), "appended"},
      {Tick("o-3", "acme", "pc-1", "2026-03-02T14:59:59", "2026-03-02T15:00:01"), "usage_overlap"},
      {Tick("t-09", "acme", "pc-1", "2026-03-02T09:00:00", "2026-03-02T10:00:00"), "appended"},
      {Tick("t-16", "acme", "pc-1", "2026-03-02T16:00:00", "2026-03-02T17:00:00"), "appended"},
  };
}

TEST_F(RulesUsageTest, OutOfOrderTicksFillGapsButNeverOverlap) {
  RunSteps(ledger_, CertSetup());
  RunSteps(ledger_, GapFillingTicks());
}

TEST_F(RulesUsageTest, OutOfOrderTicksInOneBatch) {
  std::vector<Step> batch = CertSetup();
  const std::vector<Step> ticks = GapFillingTicks();
  batch.insert(batch.end(), ticks.begin(), ticks.end());
  RunStepsInOneBatch(ledger_, batch);
  // What the batch stored is what later batches see.
  const Step steps[] = {
      {Tick("after-1", "acme", "pc-1", "2026-03-02T08:59:59", "2026-03-02T09:00:01"),
       "usage_overlap"},
      {Tick("after-2", "acme", "pc-1", "2026-03-02T16:59:59", "2026-03-02T17:00:01"),
       "usage_overlap"},
      {Tick("after-3", "acme", "pc-1", "2026-03-02T08:00:00", "2026-03-02T09:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesUsageTest, OverlapIsFoundAfterReopen) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {Tick("t-10", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      {Tick("t-12", "acme", "pc-1", "2026-03-02T12:00:00", "2026-03-02T13:00:00"), "appended"},
      {Tick("t-11", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T11:30:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  ledger_.Reopen();
  const Step then[] = {
      {Tick("o-1", "acme", "pc-1", "2026-03-02T10:59:59", "2026-03-02T11:00:01"), "usage_overlap"},
      {Tick("o-2", "acme", "pc-1", "2026-03-02T11:29:59", "2026-03-02T11:30:01"), "usage_overlap"},
      {Tick("o-3", "acme", "pc-1", "2026-03-02T12:30:00", "2026-03-02T12:40:00"), "usage_overlap"},
      {Tick("g-1", "acme", "pc-1", "2026-03-02T11:30:00", "2026-03-02T12:00:00"), "appended"},
      {Tick("o-4", "acme", "pc-1", "2026-03-02T11:45:00", "2026-03-02T11:46:00"), "usage_overlap"},
  };
  RunSteps(ledger_, then);
}

TEST_F(RulesUsageTest, OverlapWithinOneBatchIsRejected) {
  RunSteps(ledger_, CertSetup());
  const std::vector<AppendResult> results = ledger_.AppendBatch({
      Tick("t-1", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
      Tick("t-2", "acme", "pc-1", "2026-03-02T10:30:00", "2026-03-02T11:30:00"),
      Tick("t-3", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T12:00:00"),
  });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(OutcomeName(results[0]), "appended");
  EXPECT_EQ(OutcomeName(results[1]), "usage_overlap");
  EXPECT_EQ(OutcomeName(results[2]), "appended");
  EXPECT_EQ(results[2].seq, results[0].seq + 1);  // the rejected one took no number
}

TEST_F(RulesUsageTest, TicksOfOtherResourcesNeverOverlap) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {AccountOpened("open-2", "globex", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("create-2", "acme", "pc-2", "2026-03-02T08:00:00"), "appended"},
      {CertCreated("create-3", "globex", "pc-1", "2026-03-02T08:00:00"), "appended"},
      {Tick("t-1", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      {Tick("t-2", "acme", "pc-2", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      {Tick("t-3", "globex", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesUsageTest, TicksNameAResourceOfTheirAccount) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {AccountOpened("open-2", "globex", "USD", "2026-03-01T00:00:00"), "appended"},
      {Tick("t-unknown", "acme", "pc-9", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "unknown_resource"},
      {Tick("t-other", "globex", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "unknown_resource"},
      {Tick("t-no-account", "initech", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "unknown_account"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesUsageTest, TicksAreForPayPerUseResourcesOnly) {
  const Step steps[] = {
      {PriceSet("price-month", "private_ca/root/month", "USD", "100", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("price-hour", "private_ca/root/hour", "USD", "1", "2026-03-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CaPrepaidCreated("create", "acme", "ca-1", "root", "month", 1, "2026-03-02T08:00:00"),
       "appended"},
      {Tick("t-1", "acme", "ca-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "billing_mode_mismatch"},
      {Deleted("delete", "acme", "ca-1", "2026-03-03T00:00:00"), "appended"},
      // Deleted as well: the mode mismatch is reported first.
      {Tick("t-2", "acme", "ca-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "billing_mode_mismatch"},
      {Tick("t-3", "acme", "ca-1", "2026-03-04T10:00:00", "2026-03-04T11:00:00"),
       "billing_mode_mismatch"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesUsageTest, SpecExampleSplitsIntoThreeHours) {
  // billing-rules.md section 5: 10:09:06-12:53:16 gives 3054 s, 3600 s and
  // 3196 s; section 3: at 0.0017 an hour, 3054 s cost 0.00144217.
  RunSteps(ledger_, CertSetup("0.0017"));
  const Envelope tick =
      ledger_.Appended(Tick("t-1", "acme", "pc-1", "2026-03-02T10:09:06", "2026-03-02T12:53:16"));
  ASSERT_EQ(tick.rating.hours.size(), 3u);
  const int64_t hour_starts[] = {Sec("2026-03-02T10:00:00"), Sec("2026-03-02T11:00:00"),
                                 Sec("2026-03-02T12:00:00")};
  const int64_t seconds[] = {3054, 3600, 3196};
  const int64_t charges_e8[] = {E8("0.00144217"), E8("0.0017"), E8("0.00150922")};
  for (size_t i = 0; i < 3; ++i) {
    const HourSlice& hour = tick.rating.hours[i];
    EXPECT_EQ(hour.hour_start_s, hour_starts[i]) << i;
    EXPECT_EQ(hour.seconds, seconds[i]) << i;
    EXPECT_EQ(hour.price_per_hour_e10, E10("0.0017")) << i;
    EXPECT_EQ(HourlyCharge_e8(hour.price_per_hour_e10, hour.seconds), charges_e8[i]) << i;
  }
}

TEST_F(RulesUsageTest, HoursAreClockHoursOfTheBillingZone) {
  // The private_cert_hourly example: 14:25:30Z-16:40:00Z is 22:25:30-00:40:00
  // in +08:00, three hours, the last one in the next period.
  RunSteps(ledger_, CertSetup("0.0245"));
  const Step steps[] = {
      {CertCreated("create-web", "acme", "pc-web", "2026-06-30T21:10:00"), "appended"}};
  RunSteps(ledger_, steps);
  const Envelope tick = ledger_.Appended(
      Tick("t-1", "acme", "pc-web", "2026-06-30T14:25:30Z", "2026-06-30T16:40:00Z"));
  ASSERT_EQ(tick.rating.hours.size(), 3u);
  EXPECT_EQ(tick.rating.hours[0].hour_start_s, Sec("2026-06-30T22:00:00"));
  EXPECT_EQ(tick.rating.hours[0].seconds, 2070);
  EXPECT_EQ(tick.rating.hours[1].seconds, 3600);
  EXPECT_EQ(tick.rating.hours[2].hour_start_s, Sec("2026-07-01T00:00:00"));
  EXPECT_EQ(tick.rating.hours[2].seconds, 2400);
}

TEST(RulesUsageZoneTest, HoursFollowAHalfHourBillingOffset) {
  TestLedger ledger(5 * 3600 + 1800);  // +05:30
  const Step steps[] = {
      {PriceSet("price", "private_cert/hour", "USD", "1", "2026-03-01T00:00:00Z"), "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00Z"), "appended"},
      {CertCreated("create", "acme", "pc-1", "2026-03-02T00:00:00Z"), "appended"},
  };
  RunSteps(ledger, steps);
  // 10:00Z-11:00Z is 15:30-16:30 local: half of the 15:00 and 16:00 hours.
  const Envelope tick =
      ledger.Appended(Tick("t-1", "acme", "pc-1", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"));
  ASSERT_EQ(tick.rating.hours.size(), 2u);
  EXPECT_EQ(tick.rating.hours[0].hour_start_s, Sec("2026-03-02T09:30:00Z"));
  EXPECT_EQ(tick.rating.hours[0].seconds, 1800);
  EXPECT_EQ(tick.rating.hours[1].hour_start_s, Sec("2026-03-02T10:30:00Z"));
  EXPECT_EQ(tick.rating.hours[1].seconds, 1800);
}

TEST_F(RulesUsageTest, SplittingUsageDifferentlyNeverChangesAnHour) {
  RunSteps(ledger_, CertSetup());
  const Step steps[] = {
      {CertCreated("create-2", "acme", "pc-2", "2026-03-02T08:00:00"), "appended"}};
  RunSteps(ledger_, steps);
  // The same usage as one tick on pc-1 and as four ticks, out of order, on pc-2.
  const uint64_t whole[] = {
      ledger_.Append(Tick("w", "acme", "pc-1", "2026-03-02T10:09:06", "2026-03-02T12:53:16")).seq};
  const uint64_t parts[] = {
      ledger_.Append(Tick("p-3", "acme", "pc-2", "2026-03-02T11:59:59", "2026-03-02T12:53:16")).seq,
      ledger_.Append(Tick("p-1", "acme", "pc-2", "2026-03-02T10:09:06", "2026-03-02T10:09:07")).seq,
      ledger_.Append(Tick("p-2", "acme", "pc-2", "2026-03-02T10:09:07", "2026-03-02T11:30:00")).seq,
      ledger_.Append(Tick("p-4", "acme", "pc-2", "2026-03-02T11:30:00", "2026-03-02T11:59:59")).seq,
  };
  for (const uint64_t seq : parts) ASSERT_NE(seq, 0u);
  EXPECT_EQ(SecondsPerHour(ledger_, whole), SecondsPerHour(ledger_, parts));
}

TEST_F(RulesUsageTest, AnHourIsPricedAtItsStart) {
  const Step steps[] = {
      {PriceSet("price-1030", "private_cert/hour", "USD", "0.02", "2026-03-02T10:30:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("create", "acme", "pc-1", "2026-03-02T08:00:00"), "appended"},
      // A price set at 10:30 does not rate the 10:00 hour, even for seconds
      // after 10:30.
      {Tick("t-1040", "acme", "pc-1", "2026-03-02T10:40:00", "2026-03-02T10:50:00"), "no_price"},
      {Tick("t-11", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T11:10:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesUsageTest, EachHourOfATickTakesThePriceAtItsOwnStart) {
  const Step steps[] = {
      {PriceSet("price-09", "private_cert/hour", "USD", "0.01", "2026-03-02T09:00:00"), "appended"},
      {PriceSet("price-1030", "private_cert/hour", "USD", "0.02", "2026-03-02T10:30:00"),
       "appended"},
      {PriceSet("price-12", "private_cert/hour", "USD", "0.03", "2026-03-02T12:00:00"), "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("create", "acme", "pc-1", "2026-03-02T08:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope tick =
      ledger_.Appended(Tick("t-1", "acme", "pc-1", "2026-03-02T10:40:00", "2026-03-02T12:20:00"));
  ASSERT_EQ(tick.rating.hours.size(), 3u);
  EXPECT_EQ(tick.rating.hours[0].price_per_hour_e10, E10("0.01"));  // 10:00
  EXPECT_EQ(tick.rating.hours[0].seconds, 1200);
  EXPECT_EQ(tick.rating.hours[1].price_per_hour_e10, E10("0.02"));  // 11:00
  EXPECT_EQ(tick.rating.hours[2].price_per_hour_e10, E10("0.03"));  // 12:00, set exactly then
  EXPECT_EQ(tick.rating.hours[2].seconds, 1200);
}

TEST_F(RulesUsageTest, NoPriceForTheResourceSkuAndAccountCurrency) {
  const Step steps[] = {
      {PriceSet("price-eur", "private_cert/hour", "EUR", "0.01", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("price-ca", "private_ca/root/hour", "USD", "0.01", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("price-late", "private_cert/hour", "USD", "0.01", "2026-03-02T11:00:01"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("create", "acme", "pc-1", "2026-03-02T08:00:00"), "appended"},
      {CaHourlyCreated("create-sub", "acme", "ca-sub", "subordinate", "2026-03-02T08:00:00"),
       "appended"},
      {CaHourlyCreated("create-root", "acme", "ca-root", "root", "2026-03-02T08:00:00"),
       "appended"},
      // EUR and CA prices do not rate a USD certificate; the USD one starts a
      // second after the 11:00 hour.
      {Tick("t-1", "acme", "pc-1", "2026-03-02T11:00:00", "2026-03-02T11:30:00"), "no_price"},
      {Tick("t-2", "acme", "pc-1", "2026-03-02T12:00:00", "2026-03-02T12:30:00"), "appended"},
      // A pay-per-use CA is rated by private_ca/<ca_type>/hour.
      {Tick("t-3", "acme", "ca-sub", "2026-03-02T11:00:00", "2026-03-02T11:30:00"), "no_price"},
      {Tick("t-4", "acme", "ca-root", "2026-03-02T11:00:00", "2026-03-02T11:30:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesUsageTest, PriceMayNotBeBackdatedOverRatedHours) {
  const Step steps[] = {
      {PriceSet("price-09", "private_cert/hour", "USD", "0.01", "2026-03-02T09:00:00"), "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("create", "acme", "pc-1", "2026-03-02T08:00:00"), "appended"},
      // Rates the 10:00 and 11:00 hours: the latest charge time is 11:00.
      {Tick("t-1", "acme", "pc-1", "2026-03-02T10:40:00", "2026-03-02T11:20:00"), "appended"},
      // An earlier tick does not lower it.
      {Tick("t-0", "acme", "pc-1", "2026-03-02T09:00:00", "2026-03-02T09:10:00"), "appended"},
      {PriceSet("p-1030", "private_cert/hour", "USD", "0.02", "2026-03-02T10:30:00"),
       "price_backdated"},
      {PriceSet("p-11", "private_cert/hour", "USD", "0.02", "2026-03-02T11:00:00"),
       "price_backdated"},
      // Other currencies and skus were not rated.
      {PriceSet("p-eur", "private_cert/hour", "EUR", "0.02", "2026-03-02T10:30:00"), "appended"},
      {PriceSet("p-ca", "private_ca/root/hour", "USD", "0.02", "2026-03-02T10:30:00"), "appended"},
      {PriceSet("p-1101", "private_cert/hour", "USD", "0.02", "2026-03-02T11:00:01"), "appended"},
  };
  RunSteps(ledger_, steps);
  // The 11:00 hour keeps its price at its start: a later tick in it is still
  // rated at 0.01.
  const Envelope late =
      ledger_.Appended(Tick("t-2", "acme", "pc-1", "2026-03-02T11:30:00", "2026-03-02T12:30:00"));
  ASSERT_EQ(late.rating.hours.size(), 2u);
  EXPECT_EQ(late.rating.hours[0].price_per_hour_e10, E10("0.01"));
  EXPECT_EQ(late.rating.hours[1].price_per_hour_e10, E10("0.02"));
}

// The hourly skus the rules price ticks by are the catalog's own names, as
// PrivateCaSku builds them.
TEST(HourlySkuTest, TheConstantsAreTheCatalogsNames) {
  EXPECT_EQ(PrivateCaSku(CaType::kRoot, "hour"), kPrivateCaRootHourSku);
  EXPECT_EQ(PrivateCaSku(CaType::kSubordinate, "hour"), kPrivateCaSubordinateHourSku);
  for (std::string_view sku :
       {kPrivateCertHourSku, kPrivateCaRootHourSku, kPrivateCaSubordinateHourSku}) {
    EXPECT_TRUE(IsValidSku(sku)) << sku;
  }
}

}  // namespace
}  // namespace ledger::test_util
