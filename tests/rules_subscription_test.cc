// Yearly/monthly subscriptions (billing-rules.md sections 1 and 6): order
// lengths, expiry dates, renewals, unsubscription refunds, deletion, and the
// billing mode fixed at creation.

#include "tests/ledger_test_util.h"

namespace ledger::test_util {
namespace {

// Root CA prices from 2023 (100 a month, 1000 a year, 1 an hour) and the
// account `acme` in USD.
std::vector<Step> PrepaidSetup() {
  return {
      {PriceSet("price-month", "private_ca/root/month", "USD", "100", "2023-01-01T00:00:00"),
       "appended"},
      {PriceSet("price-year", "private_ca/root/year", "USD", "1000", "2023-01-01T00:00:00"),
       "appended"},
      {PriceSet("price-hour", "private_ca/root/hour", "USD", "1", "2023-01-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2023-01-01T00:00:00"), "appended"},
  };
}

// One order of an unsubscription's rating, as the test expects it.
struct ExpectedRefund {
  std::string order_event_id;
  std::string paid;
  std::string unused;  // paid - consumed: the refund line is its negation
  std::string fee;
};

void ExpectRefunds(const Envelope& unsubscription, std::span<const ExpectedRefund> expected) {
  const std::vector<OrderRefund>& refunds = unsubscription.rating.refunds;
  ASSERT_EQ(refunds.size(), expected.size());
  int64_t amount_e8 = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(refunds[i].order_event_id, expected[i].order_event_id) << i;
    EXPECT_EQ(refunds[i].paid_e8, E8(expected[i].paid)) << i;
    EXPECT_EQ(refunds[i].unused_e8, E8(expected[i].unused)) << i;
    EXPECT_EQ(refunds[i].fee_e8, E8(expected[i].fee)) << i;
    amount_e8 += E8(expected[i].fee) - E8(expected[i].unused);
  }
  // What the unsubscription adds to the invoice: fees minus refunds.
  EXPECT_EQ(unsubscription.rating.amount_e8, amount_e8);
}

using RulesSubscriptionTest = RulesTest;

TEST_F(RulesSubscriptionTest, OrdersAreOneToElevenMonthsOrOneToThreeYears) {
  RunSteps(ledger_, PrepaidSetup());
  std::vector<Step> steps;
  for (int64_t months = 1; months <= 11; ++months) {
    const std::string id = "m" + std::to_string(months);
    steps.push_back(
        {CaPrepaidCreated(id, "acme", id, "root", "month", months, "2026-03-02T10:00:00"),
         "appended"});
  }
  for (int64_t years = 1; years <= 3; ++years) {
    const std::string id = "y" + std::to_string(years);
    steps.push_back({CaPrepaidCreated(id, "acme", id, "root", "year", years, "2026-03-02T10:00:00"),
                     "appended"});
  }
  RunSteps(ledger_, steps);
  const Step rejected[] = {
      {CaPrepaidCreated("m12", "acme", "m12", "root", "month", 12, "2026-03-02T10:00:00"),
       "invalid_field"},
      {CaPrepaidCreated("m0", "acme", "m0", "root", "month", 0, "2026-03-02T10:00:00"),
       "invalid_field"},
      {CaPrepaidCreated("y4", "acme", "y4", "root", "year", 4, "2026-03-02T10:00:00"),
       "invalid_field"},
      {CaPrepaidCreated("y0", "acme", "y0", "root", "year", 0, "2026-03-02T10:00:00"),
       "invalid_field"},
      {CaPrepaidCreated("y-1", "acme", "y-1", "root", "year", -1, "2026-03-02T10:00:00"),
       "invalid_field"},
      {CaPrepaidCreated("w1", "acme", "w1", "root", "week", 1, "2026-03-02T10:00:00"),
       "invalid_field"},
  };
  RunSteps(ledger_, rejected);
}

TEST_F(RulesSubscriptionTest, RenewalsAreOneToElevenMonthsOrOneToThreeYears) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("create", "acme", "ca-1", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {Renewed("r-m1", "acme", "ca-1", "month", 1, "2026-03-03T10:00:00"), "appended"},
      {Renewed("r-m11", "acme", "ca-1", "month", 11, "2026-03-03T10:00:00"), "appended"},
      {Renewed("r-y1", "acme", "ca-1", "year", 1, "2026-03-03T10:00:00"), "appended"},
      {Renewed("r-y3", "acme", "ca-1", "year", 3, "2026-03-03T10:00:00"), "appended"},
      {Renewed("r-m12", "acme", "ca-1", "month", 12, "2026-03-03T10:00:00"), "invalid_field"},
      {Renewed("r-m0", "acme", "ca-1", "month", 0, "2026-03-03T10:00:00"), "invalid_field"},
      {Renewed("r-y4", "acme", "ca-1", "year", 4, "2026-03-03T10:00:00"), "invalid_field"},
      {Renewed("r-y0", "acme", "ca-1", "year", 0, "2026-03-03T10:00:00"), "invalid_field"},
      {Renewed("r-day", "acme", "ca-1", "day", 1, "2026-03-03T10:00:00"), "invalid_field"},
      {Event("subscription_renewed", "r-text", "acme", "2026-03-03T10:00:00",
             {S("resource_id", "ca-1"), S("period_unit", "month"), S("periods", "1")}),
       "invalid_field"},
      {Event("subscription_renewed", "r-float", "acme", "2026-03-03T10:00:00",
             {S("resource_id", "ca-1"), S("period_unit", "month"), Raw("periods", "1.0")}),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

struct ExpiryCase {
  std::string start;
  std::string unit;
  int64_t periods;
  std::string end;
};

TEST_F(RulesSubscriptionTest, SubscriptionEndsAtTheEndOfTheExpiryDate) {
  RunSteps(ledger_, PrepaidSetup());
  const ExpiryCase cases[] = {
      // billing-rules.md section 6.
      {"2023-07-30T15:50:04", "month", 1, "2023-08-30T23:59:59"},
      {"2026-01-31T10:00:00", "month", 1, "2026-02-28T23:59:59"},
      {"2026-03-01T00:30:00", "year", 1, "2027-03-01T23:59:59"},
      // Clamped to the month's last day, in leap years too.
      {"2028-01-31T10:00:00", "month", 1, "2028-02-29T23:59:59"},
      {"2028-02-29T12:00:00", "year", 1, "2029-02-28T23:59:59"},
      {"2026-05-31T09:00:00", "month", 11, "2027-04-30T23:59:59"},
      {"2026-12-15T09:00:00", "month", 1, "2027-01-15T23:59:59"},
      {"2026-03-01T00:30:00", "year", 3, "2029-03-01T23:59:59"},
      // The date is the billing zone's: 20:00Z on January 31 is February 1
      // in +08:00.
      {"2026-01-31T20:00:00Z", "month", 1, "2026-03-01T23:59:59"},
      {"2026-02-28T15:59:59Z", "month", 1, "2026-03-28T23:59:59"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    const ExpiryCase& c = cases[i];
    const std::string id = "ca-" + std::to_string(i);
    const Envelope created =
        ledger_.Appended(CaPrepaidCreated(id, "acme", id, "root", c.unit, c.periods, c.start));
    EXPECT_EQ(created.rating.order_start_s, Sec(c.start)) << c.start;
    EXPECT_EQ(created.rating.order_end_s, Sec(c.end))
        << c.start << " + " << c.periods << " " << c.unit << " ends "
        << ledger_.ledger().zone().Format(created.rating.order_end_s);
  }
}

TEST_F(RulesSubscriptionTest, RenewalExtendsFromThePreviousExpiryDate) {
  RunSteps(ledger_, PrepaidSetup());
  const Envelope created = ledger_.Appended(
      CaPrepaidCreated("create", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"));
  EXPECT_EQ(created.rating.order_end_s, Sec("2026-02-28T23:59:59"));
  // billing-rules.md section 6: 2026-02-28 23:59:59 renewed for 1 month ends
  // 2026-03-28 23:59:59; the renewal's own period starts a second after the
  // previous end.
  const Envelope renewal =
      ledger_.Appended(Renewed("renew-1", "acme", "ca-1", "month", 1, "2026-02-20T10:00:00"));
  EXPECT_EQ(renewal.rating.order_start_s, Sec("2026-03-01T00:00:00"));
  EXPECT_EQ(renewal.rating.order_end_s, Sec("2026-03-28T23:59:59"));
  const Envelope second =
      ledger_.Appended(Renewed("renew-2", "acme", "ca-1", "year", 1, "2026-02-21T10:00:00"));
  EXPECT_EQ(second.rating.order_start_s, Sec("2026-03-29T00:00:00"));
  EXPECT_EQ(second.rating.order_end_s, Sec("2027-03-28T23:59:59"));
}

TEST_F(RulesSubscriptionTest, TimeSpentExpiredIsNotGivenBack) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("create", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"}};
  RunSteps(ledger_, steps);
  // Expired since 2026-02-28 23:59:59; renewed ten days later.
  const Envelope renewal =
      ledger_.Appended(Renewed("renew", "acme", "ca-1", "month", 1, "2026-03-10T10:00:00"));
  EXPECT_EQ(renewal.rating.order_start_s, Sec("2026-03-01T00:00:00"));
  EXPECT_EQ(renewal.rating.order_end_s, Sec("2026-03-28T23:59:59"));
  EXPECT_EQ(renewal.rating.amount_e8, E8("100"));
}

TEST_F(RulesSubscriptionTest, OrdersAreRatedAtPurchaseAndRenewalTime) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {PriceSet("price-month-2", "private_ca/root/month", "USD", "120.5", "2026-02-15T00:00:00"),
       "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope created = ledger_.Appended(
      CaPrepaidCreated("create", "acme", "ca-1", "root", "month", 2, "2026-02-01T10:00:00"));
  EXPECT_EQ(created.rating.amount_e8, E8("200"));
  EXPECT_EQ(created.rating.unit_price_e10, E10("100"));
  const Envelope renewal =
      ledger_.Appended(Renewed("renew", "acme", "ca-1", "month", 3, "2026-02-20T10:00:00"));
  EXPECT_EQ(renewal.rating.amount_e8, E8("361.5"));
  EXPECT_EQ(renewal.rating.unit_price_e10, E10("120.5"));
  // The renewal rated the month price at 02-20 10:00: no price may start at
  // or before that any more.
  const Step then[] = {
      {PriceSet("p-back", "private_ca/root/month", "USD", "90", "2026-02-20T10:00:00"),
       "price_backdated"},
      {PriceSet("p-year", "private_ca/root/year", "USD", "900", "2026-02-20T10:00:00"), "appended"},
      {PriceSet("p-next", "private_ca/root/month", "USD", "90", "2026-02-20T10:00:01"), "appended"},
  };
  RunSteps(ledger_, then);
}

TEST_F(RulesSubscriptionTest, YearlyOrderShowsTheMonthlyListAmount) {
  // The yearly_ca_lifecycle example: 1500 a year with 150 a month in effect
  // lists 1800.
  const Step steps[] = {
      {PriceSet("p-year", "private_ca/subordinate/year", "EUR", "1500", "2026-01-01T00:00:00"),
       "appended"},
      {PriceSet("p-month", "private_ca/subordinate/month", "EUR", "150", "2026-01-01T00:00:00"),
       "appended"},
      {PriceSet("p-root-year", "private_ca/root/year", "EUR", "1400", "2026-01-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "contoso", "EUR", "2026-01-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope yearly = ledger_.Appended(CaPrepaidCreated(
      "ct-buy", "contoso", "pca-issuing", "subordinate", "year", 1, "2026-02-14T16:20:00"));
  EXPECT_EQ(yearly.rating.amount_e8, E8("1500"));
  EXPECT_EQ(yearly.rating.unit_price_e10, E10("1500"));
  EXPECT_EQ(yearly.rating.list_amount_e8, E8("1800"));
  const Envelope two_years = ledger_.Appended(CaPrepaidCreated(
      "buy-2", "contoso", "pca-2", "subordinate", "year", 2, "2026-02-14T16:20:00"));
  EXPECT_EQ(two_years.rating.amount_e8, E8("3000"));
  EXPECT_EQ(two_years.rating.list_amount_e8, E8("3600"));
  // No list amount for monthly orders, nor without a monthly price.
  const Envelope monthly = ledger_.Appended(CaPrepaidCreated(
      "buy-3", "contoso", "pca-3", "subordinate", "month", 3, "2026-02-14T16:20:00"));
  EXPECT_EQ(monthly.rating.amount_e8, E8("450"));
  EXPECT_EQ(monthly.rating.list_amount_e8, 0);
  const Envelope root = ledger_.Appended(
      CaPrepaidCreated("buy-4", "contoso", "pca-4", "root", "year", 1, "2026-02-14T16:20:00"));
  EXPECT_EQ(root.rating.amount_e8, E8("1400"));
  EXPECT_EQ(root.rating.list_amount_e8, 0);
}

TEST_F(RulesSubscriptionTest, UnsubscriptionExampleOfTheYearlyLifecycle) {
  const Step steps[] = {
      {PriceSet("ct-price-year", "private_ca/subordinate/year", "EUR", "1500",
                "2026-01-01T00:00:00"),
       "appended"},
      {PriceSet("ct-price-month", "private_ca/subordinate/month", "EUR", "150",
                "2026-01-01T00:00:00"),
       "appended"},
      {AccountOpened("ct-open", "contoso", "EUR", "2026-01-01T00:00:00"), "appended"},
      {CaPrepaidCreated("ct-buy", "contoso", "pca-issuing", "subordinate", "year", 1,
                        "2026-02-14T16:20:00"),
       "appended"},
      {Renewed("ct-renew", "contoso", "pca-issuing", "year", 1, "2026-09-01T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope unsubscription = ledger_.Appended(
      Unsubscribed("ct-unsubscribe", "contoso", "pca-issuing", "2026-10-20T09:45:00"));
  // Purchase: 5945 of 8768 hours used. Renewal: not started, all of it back.
  const ExpectedRefund expected[] = {
      {"ct-buy", "1500", "482.94936131", "48.29493613"},
      {"ct-renew", "1500", "1500", "0"},
  };
  ExpectRefunds(unsubscription, expected);
  EXPECT_EQ(unsubscription.rating.amount_e8, E8("-1934.65442518"));
  const Step then[] = {
      {Renewed("ct-renew-again", "contoso", "pca-issuing", "year", 1, "2026-10-22T11:00:00"),
       "subscription_ended"},
  };
  RunSteps(ledger_, then);
}

TEST_F(RulesSubscriptionTest, UnsubscriptionCountsWholeHoursOfTheOrder) {
  // billing-rules.md section 6: a year bought 2026-03-01 00:30:00 ends
  // 2027-03-01 23:59:59, 8784 hours; unsubscribed 2026-03-11 18:40:00 it has
  // used 258. consumed = round(1000 x 258 / 8784, 8) = 29.37158470,
  // unused = 970.62841530, fee = round(97.062841530, 8) = 97.06284153.
  RunSteps(ledger_, PrepaidSetup());
  const Envelope created = ledger_.Appended(
      CaPrepaidCreated("buy", "acme", "ca-1", "root", "year", 1, "2026-03-01T00:30:00"));
  EXPECT_EQ(created.rating.order_end_s, Sec("2027-03-01T23:59:59"));
  const Envelope unsubscription =
      ledger_.Appended(Unsubscribed("unsubscribe", "acme", "ca-1", "2026-03-11T18:40:00"));
  const ExpectedRefund expected[] = {{"buy", "1000", "970.62841530", "97.06284153"}};
  ExpectRefunds(unsubscription, expected);
}

TEST_F(RulesSubscriptionTest, FeeIsRoundedHalfUp) {
  // At 1500 a year: consumed = round(1500 x 258 / 8784, 8) = 44.05737705,
  // unused = 1455.94262295, fee = round(145.594262295, 8) = 145.59426230.
  const Step steps[] = {
      {PriceSet("price-year", "private_ca/root/year", "USD", "1500", "2026-01-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-01-01T00:00:00"), "appended"},
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "year", 1, "2026-03-01T00:30:00"),
       "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope unsubscription =
      ledger_.Appended(Unsubscribed("unsubscribe", "acme", "ca-1", "2026-03-11T18:40:00"));
  const ExpectedRefund expected[] = {{"buy", "1500", "1455.94262295", "145.59426230"}};
  ExpectRefunds(unsubscription, expected);
}

TEST_F(RulesSubscriptionTest, ConsumedOrderGivesNothingBackAndStartedRenewalIsProrated) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"},
      {Renewed("renew", "acme", "ca-1", "month", 1, "2026-02-27T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  // The renewal runs 2026-03-01 00:00:00 to 2026-03-28 23:59:59, 672 hours;
  // at 03-10 12:30 it has used 228: consumed = 33.92857143.
  const Envelope unsubscription =
      ledger_.Appended(Unsubscribed("unsubscribe", "acme", "ca-1", "2026-03-10T12:30:00"));
  const ExpectedRefund expected[] = {
      {"buy", "100", "0", "0"},
      {"renew", "100", "66.07142857", "6.60714286"},
  };
  ExpectRefunds(unsubscription, expected);
}

TEST_F(RulesSubscriptionTest, UnsubscriptionUntilTheLastSecond) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy-1", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-2", "acme", "ca-2", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"},
      // Both end 2026-02-28 23:59:59.
      {Unsubscribed("late", "acme", "ca-2", "2026-03-01T00:00:00"), "subscription_ended"},
  };
  RunSteps(ledger_, steps);
  // 686 hours from 01-31 10:00 to 03-01 00:00; at the last second 685 are
  // used: consumed = round(100 x 685 / 686, 8) = 99.85422741.
  const Envelope last =
      ledger_.Appended(Unsubscribed("last", "acme", "ca-1", "2026-02-28T23:59:59"));
  const ExpectedRefund expected[] = {{"buy-1", "100", "0.14577259", "0.01457726"}};
  ExpectRefunds(last, expected);
}

TEST_F(RulesSubscriptionTest, EndedSubscriptionsCannotBeRenewedOrUnsubscribed) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy-1", "acme", "ca-1", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-2", "acme", "ca-2", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-3", "acme", "ca-3", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      // Unsubscribed: ended for good.
      {Unsubscribed("unsub-1", "acme", "ca-1", "2026-03-10T00:00:00"), "appended"},
      {Unsubscribed("unsub-1-again", "acme", "ca-1", "2026-03-11T00:00:00"), "subscription_ended"},
      {Renewed("renew-1", "acme", "ca-1", "month", 1, "2026-03-11T00:00:00"), "subscription_ended"},
      // Deleted: ended for good, with no refund.
      {Deleted("delete-2", "acme", "ca-2", "2026-03-10T00:00:00"), "appended"},
      {Deleted("delete-2-again", "acme", "ca-2", "2026-03-11T00:00:00"), "resource_deleted"},
      {Renewed("renew-2", "acme", "ca-2", "month", 1, "2026-03-11T00:00:00"), "resource_deleted"},
      {Unsubscribed("unsub-2", "acme", "ca-2", "2026-03-11T00:00:00"), "resource_deleted"},
      // Unsubscribed and then deleted: deleted comes first.
      {Deleted("delete-1", "acme", "ca-1", "2026-03-12T00:00:00"), "appended"},
      {Renewed("renew-1b", "acme", "ca-1", "month", 1, "2026-03-12T00:00:00"), "resource_deleted"},
      {Unsubscribed("unsub-1b", "acme", "ca-1", "2026-03-12T00:00:00"), "resource_deleted"},
      // Expired (ends 04-02 23:59:59): may be renewed, not unsubscribed.
      {Unsubscribed("unsub-3", "acme", "ca-3", "2026-04-03T00:00:00"), "subscription_ended"},
      {Renewed("renew-3", "acme", "ca-3", "month", 1, "2026-04-10T00:00:00"), "appended"},
      {Unsubscribed("unsub-3b", "acme", "ca-3", "2026-04-10T00:00:01"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesSubscriptionTest, LifecycleInOneBatch) {
  std::vector<Step> batch = PrepaidSetup();
  const Step more[] = {
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-again", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"),
       "resource_exists"},
      {Renewed("renew", "acme", "ca-1", "month", 1, "2026-02-27T10:00:00"), "appended"},
      {Unsubscribed("unsubscribe", "acme", "ca-1", "2026-03-10T12:30:00"), "appended"},
      {Renewed("renew-again", "acme", "ca-1", "month", 1, "2026-03-11T10:00:00"),
       "subscription_ended"},
      {Deleted("delete", "acme", "ca-1", "2026-03-12T10:00:00"), "appended"},
      {Deleted("delete-again", "acme", "ca-1", "2026-03-12T10:00:00"), "resource_deleted"},
      {CaPrepaidCreated("recreate", "acme", "ca-1", "root", "month", 1, "2026-03-13T10:00:00"),
       "resource_deleted"},
  };
  batch.insert(batch.end(), std::begin(more), std::end(more));
  RunStepsInOneBatch(ledger_, batch);
  // The same refunds as when the events come one by one.
  const ExpectedRefund expected[] = {
      {"buy", "100", "0", "0"},
      {"renew", "100", "66.07142857", "6.60714286"},
  };
  ExpectRefunds(ledger_.Stored(ledger_.ledger().head().seq - 1), expected);
}

TEST_F(RulesSubscriptionTest, DeletionEndsASubscriptionWithNoRefund) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "year", 1, "2026-03-02T10:00:00"),
       "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope deletion =
      ledger_.Appended(Deleted("delete", "acme", "ca-1", "2026-03-03T10:00:00"));
  EXPECT_EQ(deletion.rating.amount_e8, 0);
  EXPECT_TRUE(deletion.rating.refunds.empty());
}

TEST_F(RulesSubscriptionTest, DeletionIsFinalAndItsIdIsNeverReused) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {CaHourlyCreated("create-h", "acme", "ca-h", "root", "2026-03-02T10:00:00"), "appended"},
      {CaPrepaidCreated("buy-again", "acme", "ca-1", "root", "month", 1, "2026-03-03T10:00:00"),
       "resource_exists"},
      {CaHourlyCreated("create-h-again", "acme", "ca-h", "root", "2026-03-03T10:00:00"),
       "resource_exists"},
      {Deleted("delete", "acme", "ca-1", "2026-03-04T10:00:00"), "appended"},
      {Deleted("delete-h", "acme", "ca-h", "2026-03-04T10:00:00"), "appended"},
      {CaPrepaidCreated("recreate", "acme", "ca-1", "root", "month", 1, "2026-03-05T10:00:00"),
       "resource_deleted"},
      {CaHourlyCreated("recreate-h", "acme", "ca-1", "root", "2026-03-05T10:00:00"),
       "resource_deleted"},
      {CertCreated("recreate-cert", "acme", "ca-h", "2026-03-05T10:00:00"), "resource_deleted"},
      {Deleted("delete-h-again", "acme", "ca-h", "2026-03-05T10:00:00"), "resource_deleted"},
      {Deleted("delete-unknown", "acme", "ca-9", "2026-03-05T10:00:00"), "unknown_resource"},
  };
  RunSteps(ledger_, steps);
}

// SPEC READING: an event about a resource dated before the resource was
// created is an invalid occurred_at (invalid_field), as the code decides; the
// spec does not name a code for it.
TEST_F(RulesSubscriptionTest, EventsCannotPrecedeTheResourceCreation) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {Renewed("renew", "acme", "ca-1", "month", 1, "2026-03-02T09:59:59"), "invalid_field"},
      {Unsubscribed("unsub", "acme", "ca-1", "2026-03-02T09:59:59"), "invalid_field"},
      {Deleted("delete", "acme", "ca-1", "2026-03-02T09:59:59"), "invalid_field"},
      {Renewed("renew-ok", "acme", "ca-1", "month", 1, "2026-03-02T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

// SPEC READING: "A deleted or unsubscribed subscription cannot be renewed"
// (billing-rules.md section 6), so an unsubscription or deletion dated
// before a renewal already recorded would put that renewal after the
// subscription ended; and a renewal extends from the end the renewals
// before it left, so it cannot be dated before one of them. Each is
// refused (invalid_field, rules version 3, judged with the remaining state
// rules). At the renewal's own second it is accepted.
TEST_F(RulesSubscriptionTest, NoEndingDatedBeforeARecordedRenewal) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy-1", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-2", "acme", "ca-2", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"},
      {Renewed("renew-1", "acme", "ca-1", "month", 1, "2026-02-27T10:00:00"), "appended"},
      {Renewed("renew-2", "acme", "ca-2", "month", 1, "2026-02-27T10:00:00"), "appended"},
      {Renewed("renew-1-early", "acme", "ca-1", "month", 1, "2026-02-27T09:59:59"),
       "invalid_field"},
      {Unsubscribed("unsub-early", "acme", "ca-1", "2026-02-27T09:59:59"), "invalid_field"},
      {Deleted("delete-early", "acme", "ca-2", "2026-02-27T09:59:59"), "invalid_field"},
      // Codes ordered before it still come first.
      {Unsubscribed("unsub-before-buy", "acme", "ca-1", "2026-01-31T09:59:59"), "invalid_field"},
      {Unsubscribed("unsub-2-ppu", "acme", "ca-9", "2026-02-27T09:59:59"), "unknown_resource"},
  };
  RunSteps(ledger_, steps);
  const uint64_t head_seq = ledger_.ledger().head().seq;
  const AppendResult early =
      ledger_.Append(Unsubscribed("unsub-early-2", "acme", "ca-1", "2026-02-01T00:00:00"));
  EXPECT_EQ(OutcomeName(early), "invalid_field");
  EXPECT_EQ(early.error.message,
            "occurred_at precedes the renewal of ca-1 at 2026-02-27T10:00:00+08:00");
  EXPECT_EQ(ledger_.ledger().head().seq, head_seq);  // no trace

  const Step at_the_renewal[] = {
      {Renewed("renew-1b", "acme", "ca-1", "month", 1, "2026-02-27T10:00:00"), "appended"},
      {Unsubscribed("unsub", "acme", "ca-1", "2026-02-27T10:00:00"), "appended"},
      {Deleted("delete", "acme", "ca-2", "2026-02-27T10:00:00"), "appended"},
  };
  RunSteps(ledger_, at_the_renewal);
}

// The same rule within one batch: the batch's own renewal counts.
TEST_F(RulesSubscriptionTest, NoEndingDatedBeforeARenewalOfTheSameBatch) {
  std::vector<Step> batch = PrepaidSetup();
  const Step more[] = {
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "month", 1, "2026-01-31T10:00:00"),
       "appended"},
      {Renewed("renew", "acme", "ca-1", "month", 1, "2026-02-27T10:00:00"), "appended"},
      {Renewed("renew-early", "acme", "ca-1", "month", 1, "2026-02-26T10:00:00"), "invalid_field"},
      {Unsubscribed("unsub-early", "acme", "ca-1", "2026-02-26T10:00:00"), "invalid_field"},
      {Deleted("delete-early", "acme", "ca-1", "2026-02-26T10:00:00"), "invalid_field"},
      {Unsubscribed("unsub", "acme", "ca-1", "2026-02-28T10:00:00"), "appended"},
  };
  batch.insert(batch.end(), std::begin(more), std::end(more));
  RunStepsInOneBatch(ledger_, batch);
}

TEST_F(RulesSubscriptionTest, SubscriptionEventsAreForYearlyMonthlyOnly) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaHourlyCreated("create-ca", "acme", "ca-h", "root", "2026-03-02T10:00:00"), "appended"},
      {CertCreated("create-cert", "acme", "pc-1", "2026-03-02T10:00:00"), "appended"},
      {Renewed("renew-ca", "acme", "ca-h", "month", 1, "2026-03-03T10:00:00"),
       "billing_mode_mismatch"},
      {Unsubscribed("unsub-ca", "acme", "ca-h", "2026-03-03T10:00:00"), "billing_mode_mismatch"},
      {Renewed("renew-cert", "acme", "pc-1", "year", 1, "2026-03-03T10:00:00"),
       "billing_mode_mismatch"},
      {Unsubscribed("unsub-cert", "acme", "pc-1", "2026-03-03T10:00:00"), "billing_mode_mismatch"},
      // Deleted as well: the mode mismatch is reported first.
      {Deleted("delete-ca", "acme", "ca-h", "2026-03-04T10:00:00"), "appended"},
      {Renewed("renew-ca-2", "acme", "ca-h", "month", 1, "2026-03-05T10:00:00"),
       "billing_mode_mismatch"},
      {Unsubscribed("unsub-ca-2", "acme", "ca-h", "2026-03-05T10:00:00"), "billing_mode_mismatch"},
      // Unknown or another account's resources are unknown.
      {AccountOpened("open-2", "globex", "USD", "2026-03-01T00:00:00"), "appended"},
      {Renewed("renew-x", "acme", "ca-9", "month", 1, "2026-03-05T10:00:00"), "unknown_resource"},
      {Unsubscribed("unsub-x", "acme", "ca-9", "2026-03-05T10:00:00"), "unknown_resource"},
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {Renewed("renew-other", "globex", "ca-1", "month", 1, "2026-03-05T10:00:00"),
       "unknown_resource"},
      {Unsubscribed("unsub-other", "globex", "ca-1", "2026-03-05T10:00:00"), "unknown_resource"},
      {Deleted("delete-other", "globex", "ca-1", "2026-03-05T10:00:00"), "unknown_resource"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesSubscriptionTest, BillingModeIsImmutableWhateverTheState) {
  RunSteps(ledger_, PrepaidSetup());
  const Step steps[] = {
      {CaPrepaidCreated("buy-1", "acme", "ca-y", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-2", "acme", "ca-u", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-3", "acme", "ca-d", "root", "month", 1, "2026-03-02T10:00:00"),
       "appended"},
      {CaHourlyCreated("create-h", "acme", "ca-h", "root", "2026-03-02T10:00:00"), "appended"},
      {CertCreated("create-c", "acme", "pc-1", "2026-03-02T10:00:00"), "appended"},
      {Unsubscribed("unsub", "acme", "ca-u", "2026-03-03T10:00:00"), "appended"},
      {Deleted("delete", "acme", "ca-d", "2026-03-03T10:00:00"), "appended"},
      {ModeChange("m-1", "acme", "ca-y", "pay_per_use", "2026-03-04T10:00:00"),
       "billing_mode_immutable"},
      {ModeChange("m-2", "acme", "ca-y", "yearly_monthly", "2026-03-04T10:00:00"),
       "billing_mode_immutable"},
      {ModeChange("m-3", "acme", "ca-h", "yearly_monthly", "2026-03-04T10:00:00"),
       "billing_mode_immutable"},
      {ModeChange("m-4", "acme", "pc-1", "yearly_monthly", "2026-03-04T10:00:00"),
       "billing_mode_immutable"},
      {ModeChange("m-5", "acme", "ca-u", "pay_per_use", "2026-03-04T10:00:00"),
       "billing_mode_immutable"},
      {ModeChange("m-6", "acme", "ca-d", "pay_per_use", "2026-03-04T10:00:00"),
       "billing_mode_immutable"},
      {ModeChange("m-7", "acme", "ca-y", "pay_per_use", "2027-01-01T00:00:00"),  // expired
       "billing_mode_immutable"},
      {ModeChange("m-8", "acme", "ca-9", "pay_per_use", "2026-03-04T10:00:00"),  // unknown
       "billing_mode_immutable"},
      // Its fields must be valid first.
      {ModeChange("m-9", "acme", "ca-y", "one_time", "2026-03-04T10:00:00"), "invalid_field"},
      {Event("billing_mode_change_requested", "m-10", "acme", "2026-03-04T10:00:00",
             {S("resource_id", "ca-y")}),
       "missing_field"},
  };
  RunSteps(ledger_, steps);
  // The resources kept their modes: the prepaid one still renews, the
  // hourly one still takes usage.
  const Step then[] = {
      {Renewed("renew", "acme", "ca-y", "month", 1, "2026-03-05T10:00:00"), "appended"},
      {Tick("tick", "acme", "ca-h", "2026-03-05T10:00:00", "2026-03-05T11:00:00"), "appended"},
  };
  RunSteps(ledger_, then);
}

// SPEC AMBIGUITY: "billing_mode_change_requested is billing_mode_immutable
// once its fields are valid, whatever the resource's state" speaks of the
// resource; this test asserts the code's reading that an account that is not
// open is still unknown_account (interface.md's general order).
TEST_F(RulesSubscriptionTest, BillingModeChangeForAnUnknownAccount) {
  const Step steps[] = {
      {ModeChange("m-1", "initech", "ca-1", "pay_per_use", "2026-03-04T10:00:00"),
       "unknown_account"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesSubscriptionTest, OrdersNeedAPriceForTheirUnitAndCurrency) {
  const Step steps[] = {
      {PriceSet("p-year", "private_ca/root/year", "USD", "1000", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-month-eur", "private_ca/root/month", "EUR", "100", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-sub-month", "private_ca/subordinate/month", "USD", "80", "2026-03-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-01-01T00:00:00"), "appended"},
      // Before the year price takes effect, and at it.
      {CaPrepaidCreated("buy-early", "acme", "ca-1", "root", "year", 1, "2026-02-28T23:59:59"),
       "no_price"},
      // A month price in EUR or for subordinate CAs does not rate a USD root.
      {CaPrepaidCreated("buy-month", "acme", "ca-1", "root", "month", 1, "2026-03-02T10:00:00"),
       "no_price"},
      // The rejected creations left no trace: ca-1 is still free.
      {CaPrepaidCreated("buy", "acme", "ca-1", "root", "year", 1, "2026-03-01T00:00:00"),
       "appended"},
      {Renewed("renew-month", "acme", "ca-1", "month", 1, "2026-03-02T10:00:00"), "no_price"},
      {Renewed("renew-year", "acme", "ca-1", "year", 1, "2026-03-02T10:00:00"), "appended"},
      {CaPrepaidCreated("buy-sub", "acme", "ca-2", "subordinate", "month", 1,
                        "2026-03-02T10:00:00"),
       "appended"},
      {CaPrepaidCreated("buy-sub-y", "acme", "ca-3", "subordinate", "year", 1,
                        "2026-03-02T10:00:00"),
       "no_price"},
      // Pay-per-use resources are charged by usage: no price at creation.
      {CaHourlyCreated("create-h", "acme", "ca-4", "subordinate", "2026-03-02T10:00:00"),
       "appended"},
      {CertCreated("create-c", "acme", "pc-1", "2026-03-02T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

}  // namespace
}  // namespace ledger::test_util
