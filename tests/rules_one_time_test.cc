// One-time products, prices, adjustments and invoice finalization
// (billing-rules.md sections 3, 4, 7 and 8): SSL certificates and expansion
// packages, their refunds, price history, and invoice numbers.

#include "tests/ledger_test_util.h"

namespace ledger::test_util {
namespace {

// SSL prices per domain (DigiCert OV, one year), an expansion package price,
// and the accounts `acme` (USD) and `globex` (USD).
std::vector<Step> SslSetup() {
  return {
      {PriceSet("p-multi", "ssl/DigiCert/OV/multi/1y", "USD", "12.5", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-single", "ssl/DigiCert/OV/single/1y", "USD", "100", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-wild", "ssl/DigiCert/OV/wildcard/1y", "USD", "300", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-exp", "ssl_expansion", "USD", "5.25", "2026-03-01T00:00:00"), "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {AccountOpened("open-2", "globex", "USD", "2026-03-01T00:00:00"), "appended"},
  };
}

std::string Ssl(std::string_view id, std::string_view order, std::string_view domain_type,
                int64_t domains, std::string_view at = "2026-03-02T10:00:00") {
  return SslPurchased(id, "acme", order, "DigiCert", "OV", domain_type, domains, 1, at);
}

using RulesOneTimeTest = RulesTest;

TEST_F(RulesOneTimeTest, DomainsPerCertificateType) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("m-1", "o-m-1", "multi", 1), "invalid_field"},
      {Ssl("m-2", "o-m-2", "multi", 2), "appended"},
      {Ssl("m-250", "o-m-250", "multi", 250), "appended"},
      {Ssl("m-251", "o-m-251", "multi", 251), "invalid_field"},
      {Ssl("m-0", "o-m-0", "multi", 0), "invalid_field"},
      {Ssl("s-1", "o-s-1", "single", 1), "appended"},
      {Ssl("s-2", "o-s-2", "single", 2), "invalid_field"},
      {Ssl("s-0", "o-s-0", "single", 0), "invalid_field"},
      {Ssl("w-1", "o-w-1", "wildcard", 1), "appended"},
      {Ssl("w-2", "o-w-2", "wildcard", 2), "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, CertificateIsChargedPricePerDomainAtPurchase) {
  RunSteps(ledger_, SslSetup());
  const Envelope two = ledger_.Appended(Ssl("m-2", "o-1", "multi", 2));
  EXPECT_EQ(two.rating.amount_e8, E8("25"));
  EXPECT_EQ(two.rating.unit_price_e10, E10("12.5"));
  const Envelope many = ledger_.Appended(Ssl("m-250", "o-2", "multi", 250));
  EXPECT_EQ(many.rating.amount_e8, E8("3125"));
  const Envelope single = ledger_.Appended(Ssl("s-1", "o-3", "single", 1));
  EXPECT_EQ(single.rating.amount_e8, E8("100"));
}

TEST_F(RulesOneTimeTest, CertificateIsOneToThreeYears) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {PriceSet("p-2y", "ssl/GeoTrust/DV/single/2y", "USD", "180", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-3y", "ssl/GeoTrust/DV/single/3y", "USD", "250", "2026-03-01T00:00:00"),
       "appended"},
      {SslPurchased("y-0", "acme", "o-0", "DigiCert", "OV", "single", 1, 0, "2026-03-02T10:00:00"),
       "invalid_field"},
      {SslPurchased("y-4", "acme", "o-4", "DigiCert", "OV", "single", 1, 4, "2026-03-02T10:00:00"),
       "invalid_field"},
      {SslPurchased("y-1", "acme", "o-1", "DigiCert", "OV", "single", 1, 1, "2026-03-02T10:00:00"),
       "appended"},
      {SslPurchased("y-2", "acme", "o-2", "GeoTrust", "DV", "single", 1, 2, "2026-03-02T10:00:00"),
       "appended"},
      {SslPurchased("y-3", "acme", "o-3", "GeoTrust", "DV", "single", 1, 3, "2026-03-02T10:00:00"),
       "appended"},
      // Each year count has its own sku.
      {SslPurchased("y-1b", "acme", "o-5", "GeoTrust", "DV", "single", 1, 1, "2026-03-02T10:00:00"),
       "no_price"},
      {SslPurchased("y-2b", "acme", "o-6", "DigiCert", "OV", "single", 1, 2, "2026-03-02T10:00:00"),
       "no_price"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, PurchaseNeedsAPriceInEffectInTheAccountCurrency) {
  const Step steps[] = {
      {PriceSet("p-eur", "ssl/vTrus/EV/single/1y", "EUR", "90", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-usd", "ssl/vTrus/EV/single/1y", "USD", "99", "2026-03-02T10:00:00"), "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {AccountOpened("open-eur", "contoso", "EUR", "2026-03-01T00:00:00"), "appended"},
      // The USD price starts a second later; the EUR one is for EUR accounts.
      {SslPurchased("b-1", "acme", "o-1", "vTrus", "EV", "single", 1, 1, "2026-03-02T09:59:59"),
       "no_price"},
      {SslPurchased("b-2", "acme", "o-1", "vTrus", "EV", "single", 1, 1, "2026-03-02T10:00:00"),
       "appended"},
      {SslPurchased("b-3", "contoso", "o-1", "vTrus", "EV", "single", 1, 1, "2026-03-02T09:59:59"),
       "appended"},
      // No price at all for this sku, nor for expansion packages.
      {SslPurchased("b-4", "acme", "o-2", "vTrus", "EV_PRO", "single", 1, 1, "2026-03-02T10:00:00"),
       "no_price"},
      {ExpansionPurchased("x-1", "acme", "o-3", 1, "2026-03-02T10:00:00"), "no_price"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, PurchaseAmountIsRoundedHalfUpToEightPlaces) {
  const Step steps[] = {
      {PriceSet("p-half", "ssl/CFCA/DV/single/1y", "USD", "0.000000005", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-below", "ssl/CFCA/OV/single/1y", "USD", "0.0000000049", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-sixth", "ssl/CFCA/EV/multi/1y", "USD", "0.1666666675", "2026-03-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  EXPECT_EQ(ledger_
                .Appended(SslPurchased("b-1", "acme", "o-1", "CFCA", "DV", "single", 1, 1,
                                       "2026-03-02T10:00:00"))
                .rating.amount_e8,
            1);
  EXPECT_EQ(ledger_
                .Appended(SslPurchased("b-2", "acme", "o-2", "CFCA", "OV", "single", 1, 1,
                                       "2026-03-02T10:00:00"))
                .rating.amount_e8,
            0);
  // 0.1666666675 x 6 = 1.000000005 -> 1.00000001.
  EXPECT_EQ(ledger_
                .Appended(SslPurchased("b-3", "acme", "o-3", "CFCA", "EV", "multi", 6, 1,
                                       "2026-03-02T10:00:00"))
                .rating.amount_e8,
            E8("1.00000001"));
}

// SPEC READING: a charge must fit the ledger's limit of 10^10 currency units
// (constants.h kAmountUnitsMax); a purchase whose price x quantity exceeds it
// is an invalid quantity for that price (invalid_field), not a crash.
TEST_F(RulesOneTimeTest, ChargeBeyondTheAmountLimitIsRejected) {
  const Step steps[] = {
      {PriceSet("p-exp", "ssl_expansion", "USD", "900000000", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-multi", "ssl/GlobalSign/EV/multi/3y", "USD", "40000000", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-multi-2", "ssl/GlobalSign/OV/multi/3y", "USD", "40000000.00000001",
                "2026-03-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {ExpansionPurchased("x-1", "acme", "x-1", 10'000, "2026-03-02T10:00:00"), "invalid_field"},
      {ExpansionPurchased("x-2", "acme", "x-2", 11, "2026-03-02T10:00:00"), "appended"},
      {ExpansionPurchased("x-3", "acme", "x-3", 12, "2026-03-02T10:00:00"), "invalid_field"},
      {SslPurchased("b-1", "acme", "o-1", "GlobalSign", "OV", "multi", 250, 3,
                    "2026-03-02T10:00:00"),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
  // Exactly at the limit: 40000000 x 250 = 10^10.
  const Envelope at_limit = ledger_.Appended(SslPurchased("b-2", "acme", "o-2", "GlobalSign", "EV",
                                                          "multi", 250, 3, "2026-03-02T10:00:00"));
  EXPECT_EQ(at_limit.rating.amount_e8, kAmountUnitsMax * kAmountScale);
}

TEST_F(RulesOneTimeTest, ExpansionIsChargedPricePerPackage) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {ExpansionPurchased("x-0", "acme", "x-0", 0, "2026-03-02T10:00:00"), "invalid_field"},
      {ExpansionPurchased("x-big", "acme", "x-big", 10'001, "2026-03-02T10:00:00"),
       "invalid_field"},
      {ExpansionPurchased("x-max", "acme", "x-max", 10'000, "2026-03-02T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  const Envelope three =
      ledger_.Appended(ExpansionPurchased("x-3", "acme", "x-3", 3, "2026-03-02T10:00:00"));
  EXPECT_EQ(three.rating.amount_e8, E8("15.75"));
  EXPECT_EQ(three.rating.unit_price_e10, E10("5.25"));
}

TEST_F(RulesOneTimeTest, OrderIdsAreUniquePerAccountAcrossSslAndExpansion) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("b-1", "PO-1", "single", 1), "appended"},
      {Ssl("b-2", "PO-1", "single", 1), "order_exists"},
      {ExpansionPurchased("x-1", "acme", "PO-1", 1, "2026-03-02T10:00:00"), "order_exists"},
      {ExpansionPurchased("x-2", "acme", "PO-2", 1, "2026-03-02T10:00:00"), "appended"},
      {Ssl("b-3", "PO-2", "single", 1), "order_exists"},
      // order_exists comes before no_price.
      {SslPurchased("b-4", "acme", "PO-1", "RapidSSL", "DV", "single", 1, 1, "2026-03-02T10:00:00"),
       "order_exists"},
      // Another account's order ids are its own.
      {SslPurchased("b-5", "globex", "PO-1", "DigiCert", "OV", "single", 1, 1,
                    "2026-03-02T10:00:00"),
       "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, CertificateRefundWithinSevenTimes24Hours) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("b-1", "o-1", "multi", 4, "2026-03-02T10:00:00"), "appended"},
      {Ssl("b-2", "o-2", "single", 1, "2026-03-02T10:00:00"), "appended"},
      {Ssl("b-3", "o-3", "single", 1, "2026-03-02T10:00:00"), "appended"},
      // 604,801 s after the purchase: too late.
      {SslRefunded("r-2", "acme", "o-2", "2026-03-09T10:00:01"), "refund_window_expired"},
      {SslRefunded("r-3", "acme", "o-3", "2026-03-09T02:00:01Z"), "refund_window_expired"},
  };
  RunSteps(ledger_, steps);
  // 604,800 s after the purchase, inclusive: the whole amount comes back.
  const Envelope refund =
      ledger_.Appended(SslRefunded("r-1", "acme", "o-1", "2026-03-09T10:00:00"));
  EXPECT_EQ(refund.rating.amount_e8, -E8("50"));
  const Step then[] = {
      {SslRefunded("r-1-again", "acme", "o-1", "2026-03-09T10:00:00"), "already_refunded"},
      {SslRefunded("r-3-ok", "acme", "o-3", "2026-03-09T02:00:00Z"), "appended"},
  };
  RunSteps(ledger_, then);
}

// SPEC READING: a refund dated before its purchase is not "within 7 x 24
// hours of its purchase": refund_window_expired.
TEST_F(RulesOneTimeTest, RefundCannotPrecedeThePurchase) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("b-1", "o-1", "single", 1, "2026-03-02T10:00:00"), "appended"},
      {SslRefunded("r-0", "acme", "o-1", "2026-03-02T09:59:59"), "refund_window_expired"},
      {SslRefunded("r-1", "acme", "o-1", "2026-03-02T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

// SPEC READING: already_refunded and refund_window_expired are both among
// interface.md's "remaining state rules"; a second refund after the window
// answers already_refunded, the fact that does not depend on when it is asked.
TEST_F(RulesOneTimeTest, SecondRefundIsAlreadyRefundedEvenAfterTheWindow) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("b-1", "o-1", "single", 1, "2026-03-02T10:00:00"), "appended"},
      {SslRefunded("r-1", "acme", "o-1", "2026-03-03T10:00:00"), "appended"},
      {SslRefunded("r-2", "acme", "o-1", "2026-04-01T10:00:00"), "already_refunded"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, OnlyTheAccountsOwnCertificateOrdersAreRefunded) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("b-1", "o-1", "single", 1), "appended"},
      {ExpansionPurchased("x-1", "acme", "x-1", 2, "2026-03-02T10:00:00"), "appended"},
      {SslRefunded("r-exp", "acme", "x-1", "2026-03-03T10:00:00"), "unknown_order"},
      {SslRefunded("r-other", "globex", "o-1", "2026-03-03T10:00:00"), "unknown_order"},
      {SslRefunded("r-none", "acme", "o-9", "2026-03-03T10:00:00"), "unknown_order"},
      {SslRefunded("r-account", "initech", "o-1", "2026-03-03T10:00:00"), "unknown_account"},
      {SslRefunded("r-1", "acme", "o-1", "2026-03-03T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, OneTimeOrdersAreNotResources) {
  // billing-rules.md section 1: never metered, renewed or deleted as resources.
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("b-1", "o-1", "single", 1), "appended"},
      {ExpansionPurchased("x-1", "acme", "x-1", 1, "2026-03-02T10:00:00"), "appended"},
      {Tick("t-1", "acme", "o-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "unknown_resource"},
      {Renewed("n-1", "acme", "o-1", "year", 1, "2026-03-03T10:00:00"), "unknown_resource"},
      {Unsubscribed("u-1", "acme", "o-1", "2026-03-03T10:00:00"), "unknown_resource"},
      {Deleted("d-1", "acme", "o-1", "2026-03-03T10:00:00"), "unknown_resource"},
      {Deleted("d-2", "acme", "x-1", "2026-03-03T10:00:00"), "unknown_resource"},
      {ModeChange("m-1", "acme", "o-1", "pay_per_use", "2026-03-03T10:00:00"),
       "billing_mode_immutable"},
      // Order ids and resource ids are apart: a resource may share the name.
      {CertCreated("c-1", "acme", "o-1", "2026-03-03T10:00:00"), "appended"},
      {SslRefunded("r-1", "acme", "o-1", "2026-03-03T10:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, ChargesForAFinalizedPeriodAreStillAccepted) {
  // billing-rules.md section 8: a charge that would land in a finalized
  // period goes to a later one; the event itself is not rejected.
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {PriceSet("p-cert", "private_cert/hour", "USD", "0.01", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("c-1", "acme", "pc-1", "2026-03-02T08:00:00"), "appended"},
      {Ssl("b-1", "o-1", "single", 1, "2026-03-31T23:00:00"), "appended"},
      {Finalized("f-1", "acme", "2026-03", "2026-04-01T00:00:00"), "appended"},
      {Tick("t-1", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      {Adjustment("a-1", "acme", "-1", "late credit", "2026-03-15T10:00:00"), "appended"},
      {Ssl("b-2", "o-2", "single", 1, "2026-03-20T10:00:00"), "appended"},
      {SslRefunded("r-1", "acme", "o-1", "2026-03-31T23:30:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, AdjustmentsAreSignedNonZeroAmountsWithAReason) {
  RunSteps(ledger_, SslSetup());
  const Envelope credit =
      ledger_.Appended(Adjustment("a-1", "acme", "-12.5", "outage credit", "2026-03-02T10:00:00"));
  EXPECT_EQ(credit.rating.amount_e8, E8("-12.5"));
  const Envelope tiny =
      ledger_.Appended(Adjustment("a-2", "acme", "0.00000001", "rounding", "2026-03-02T10:00:00"));
  EXPECT_EQ(tiny.rating.amount_e8, 1);
  const Step steps[] = {
      {Adjustment("a-3", "acme", "0.000000001", "r", "2026-03-02T10:00:00"), "invalid_field"},
      {Adjustment("a-4", "acme", "0", "r", "2026-03-02T10:00:00"), "invalid_field"},
      {Adjustment("a-5", "acme", "-0.00", "r", "2026-03-02T10:00:00"), "invalid_field"},
      {Adjustment("a-6", "acme", "1e2", "r", "2026-03-02T10:00:00"), "invalid_field"},
      {Adjustment("a-7", "acme", "+5", "r", "2026-03-02T10:00:00"), "invalid_field"},
      {Adjustment("a-8", "acme", "", "r", "2026-03-02T10:00:00"), "invalid_field"},
      {Event("adjustment_posted", "a-9", "acme", "2026-03-02T10:00:00",
             {Raw("amount", "5"), S("reason", "r")}),
       "invalid_field"},
      {Adjustment("a-10", "acme", "5", "", "2026-03-02T10:00:00"), "invalid_field"},
      {Adjustment("a-11", "acme", "5", std::string(256, 'r'), "2026-03-02T10:00:00"), "appended"},
      {Adjustment("a-12", "acme", "5", std::string(257, 'r'), "2026-03-02T10:00:00"),
       "invalid_field"},
      {Adjustment("a-13", "initech", "5", "r", "2026-03-02T10:00:00"), "unknown_account"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, PeriodIsFinalizedOnlyAfterItEndsAndOnlyOnce) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      // 2026-03 ends at 2026-04-01 00:00:00 in +08:00, 2026-03-31 16:00:00Z.
      {Finalized("f-early", "acme", "2026-03", "2026-03-31T23:59:59"), "period_not_ended"},
      {Finalized("f-early-z", "acme", "2026-03", "2026-03-31T15:59:59Z"), "period_not_ended"},
      {Finalized("f-during", "acme", "2026-03", "2026-03-15T00:00:00"), "period_not_ended"},
      {Finalized("f-future", "acme", "2026-05", "2026-04-01T00:00:00"), "period_not_ended"},
      {Finalized("f-1", "acme", "2026-03", "2026-03-31T16:00:00Z"), "appended"},
      {Finalized("f-twice", "acme", "2026-03", "2026-04-01T00:00:00"), "period_finalized"},
      {Finalized("f-later", "acme", "2026-03", "2027-01-01T00:00:00"), "period_finalized"},
      // Every account has its own periods.
      {Finalized("f-2", "globex", "2026-03", "2026-04-01T00:00:00"), "appended"},
      // December ends with the year.
      {Finalized("f-dec-early", "acme", "2026-12", "2026-12-31T23:59:59"), "period_not_ended"},
      {Finalized("f-dec", "acme", "2026-12", "2027-01-01T00:00:00"), "appended"},
      {Finalized("f-unknown", "initech", "2026-03", "2026-04-01T00:00:00"), "unknown_account"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesOneTimeTest, PeriodMustBeAMonthBetween2000And2199) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Finalized("f-1", "acme", "2026-3", "2026-05-01T00:00:00"), "invalid_field"},
      {Finalized("f-2", "acme", "2026-13", "2026-05-01T00:00:00"), "invalid_field"},
      {Finalized("f-3", "acme", "2026-00", "2026-05-01T00:00:00"), "invalid_field"},
      {Finalized("f-4", "acme", "2026/03", "2026-05-01T00:00:00"), "invalid_field"},
      {Finalized("f-5", "acme", "1999-12", "2026-05-01T00:00:00"), "invalid_field"},
      {Finalized("f-6", "acme", "2026-03-01", "2026-05-01T00:00:00"), "invalid_field"},
      {Event("invoice_finalized", "f-7", "acme", "2026-05-01T00:00:00", {Raw("period", "202603")}),
       "invalid_field"},
      // 2000-01 is a period, but one that ended before acme was opened.
      {Finalized("f-8", "acme", "2000-01", "2026-05-01T00:00:00"), "invalid_field"},
      {AccountOpened("open-2000", "old", "USD", "2000-01-02T00:00:00"), "appended"},
      {Finalized("f-9", "old", "2000-01", "2026-05-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST(RulesOneTimeZoneTest, PeriodEndIsJudgedInTheBillingZone) {
  TestLedger ledger(0);  // UTC
  const Step steps[] = {
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00Z"), "appended"},
      {Finalized("f-early", "acme", "2026-03", "2026-04-01T07:59:59+08:00"), "period_not_ended"},
      {Finalized("f-1", "acme", "2026-03", "2026-04-01T08:00:00+08:00"), "appended"},
  };
  RunSteps(ledger, steps);
}

TEST_F(RulesOneTimeTest, InvoiceNumbersAreOneGaplessLedgerWideSequence) {
  RunSteps(ledger_, SslSetup());
  const auto number = [&](std::string_view line) {
    return ledger_.Appended(line).rating.invoice_number;
  };
  EXPECT_EQ(number(Finalized("f-1", "acme", "2026-03", "2026-04-01T00:00:00")), 1u);
  EXPECT_EQ(number(Finalized("f-2", "globex", "2026-03", "2026-04-01T00:00:00")), 2u);
  // Rejected finalizations take no number.
  const Step steps[] = {
      {Finalized("f-x", "globex", "2026-03", "2026-04-02T00:00:00"), "period_finalized"},
      {Finalized("f-y", "globex", "2026-04", "2026-04-02T00:00:00"), "period_not_ended"},
  };
  RunSteps(ledger_, steps);
  // Periods may be finalized in any order: May before April.
  EXPECT_EQ(number(Finalized("f-3", "acme", "2026-05", "2026-06-02T00:00:00")), 3u);
  // The sequence survives a reopen.
  ledger_.Reopen();
  EXPECT_EQ(number(Finalized("f-4", "globex", "2026-05", "2026-06-02T00:00:00")), 4u);
  // And numbers the finalizations of one batch in order.
  const std::vector<AppendResult> results = ledger_.AppendBatch({
      Finalized("f-5", "acme", "2026-04", "2026-05-01T00:00:00"),
      Finalized("f-5b", "acme", "2026-04", "2026-05-01T00:00:00"),
      Finalized("f-6", "globex", "2026-04", "2026-05-01T00:00:00"),
  });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(OutcomeName(results[1]), "period_finalized");
  EXPECT_EQ(ledger_.Stored(results[0].seq).rating.invoice_number, 5u);
  EXPECT_EQ(ledger_.Stored(results[2].seq).rating.invoice_number, 6u);
}

TEST_F(RulesOneTimeTest, PricesChargesAndFinalizationsInOneBatch) {
  std::vector<Step> batch = SslSetup();
  const Step more[] = {
      {Ssl("b-1", "o-1", "single", 1, "2026-03-05T10:00:00"), "appended"},
      {Ssl("b-2", "o-1", "single", 1, "2026-03-05T10:00:00"), "order_exists"},
      {PriceSet("p-back", "ssl/DigiCert/OV/single/1y", "USD", "1", "2026-03-05T10:00:00"),
       "price_backdated"},
      {PriceSet("p-new", "ssl/DigiCert/OV/single/1y", "USD", "1", "2026-03-05T10:00:01"),
       "appended"},
      {SslRefunded("r-1", "acme", "o-1", "2026-03-06T10:00:00"), "appended"},
      {SslRefunded("r-2", "acme", "o-1", "2026-03-06T10:00:00"), "already_refunded"},
      {Finalized("f-1", "acme", "2026-03", "2026-04-01T00:00:00"), "appended"},
      {Finalized("f-2", "acme", "2026-03", "2026-04-01T00:00:00"), "period_finalized"},
  };
  batch.insert(batch.end(), std::begin(more), std::end(more));
  RunStepsInOneBatch(ledger_, batch);
  const uint64_t head = ledger_.ledger().head().seq;
  EXPECT_EQ(ledger_.Stored(head).rating.invoice_number, 1u);
  // The price set in the batch rates a later purchase.
  EXPECT_EQ(
      ledger_.Appended(Ssl("b-3", "o-3", "single", 1, "2026-03-05T10:00:01")).rating.amount_e8,
      E8("1"));
}

TEST_F(RulesOneTimeTest, TwoPricesAtTheSameInstantTheLaterInTheLogWins) {
  const Step steps[] = {
      {PriceSet("p-1", "ssl/TrustAsia/DV/single/1y", "USD", "10", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-2", "ssl/TrustAsia/DV/single/1y", "USD", "20", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-3", "ssl/TrustAsia/DV/single/1y", "USD", "15", "2026-02-28T16:00:00Z"),
       "appended"},  // the same instant, written in UTC
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  const auto amount = [&](std::string_view id) {
    return ledger_
        .Appended(
            SslPurchased(id, "acme", id, "TrustAsia", "DV", "single", 1, 1, "2026-03-01T00:00:00"))
        .rating.amount_e8;
  };
  EXPECT_EQ(amount("b-1"), E8("15"));
  ledger_.Reopen();  // the catalog loaded from disk keeps the log order
  EXPECT_EQ(amount("b-2"), E8("15"));
}

TEST_F(RulesOneTimeTest, PriceInEffectIsTheLatestByEffectiveTimeNotByLogOrder) {
  const Step steps[] = {
      {PriceSet("p-late", "ssl_expansion", "USD", "7", "2026-03-05T00:00:00"), "appended"},
      {PriceSet("p-early", "ssl_expansion", "USD", "6", "2026-03-01T00:00:00"), "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  EXPECT_EQ(ledger_.Appended(ExpansionPurchased("x-1", "acme", "x-1", 1, "2026-03-04T23:59:59"))
                .rating.amount_e8,
            E8("6"));
  EXPECT_EQ(ledger_.Appended(ExpansionPurchased("x-2", "acme", "x-2", 1, "2026-03-05T00:00:00"))
                .rating.amount_e8,
            E8("7"));
}

TEST_F(RulesOneTimeTest, PriceMayNotBeBackdatedOverRatedPurchases) {
  RunSteps(ledger_, SslSetup());
  const Step steps[] = {
      {Ssl("b-1", "o-1", "single", 1, "2026-03-05T10:00:00"), "appended"},
      {ExpansionPurchased("x-1", "acme", "x-1", 1, "2026-03-04T10:00:00"), "appended"},
      // Not before, nor at, the latest charge time of the sku and currency.
      {PriceSet("p-before", "ssl/DigiCert/OV/single/1y", "USD", "1", "2026-03-05T09:59:59"),
       "price_backdated"},
      {PriceSet("p-equal", "ssl/DigiCert/OV/single/1y", "USD", "1", "2026-03-05T10:00:00"),
       "price_backdated"},
      {PriceSet("p-equal-z", "ssl/DigiCert/OV/single/1y", "USD", "1", "2026-03-05T02:00:00Z"),
       "price_backdated"},
      {PriceSet("p-exp-at", "ssl_expansion", "USD", "1", "2026-03-04T10:00:00"), "price_backdated"},
      // Other skus and currencies were not rated then.
      {PriceSet("p-eur", "ssl/DigiCert/OV/single/1y", "EUR", "1", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-multi-2", "ssl/DigiCert/OV/multi/1y", "USD", "1", "2026-03-02T00:00:00"),
       "appended"},
      {PriceSet("p-after", "ssl/DigiCert/OV/single/1y", "USD", "1", "2026-03-05T10:00:01"),
       "appended"},
      {PriceSet("p-exp-after", "ssl_expansion", "USD", "1", "2026-03-04T10:00:01"), "appended"},
  };
  RunSteps(ledger_, steps);
}

}  // namespace
}  // namespace ledger::test_util
