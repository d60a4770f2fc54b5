#include "ledger/money.h"

#include <gtest/gtest.h>

#include "ledger/constants.h"

namespace ledger {
namespace {

TEST(MoneyTest, HourlyChargeOfTheSpecExample) {
  // billing-rules.md section 3: 0.0017 per hour for 3054 s = 0.00144217.
  EXPECT_EQ(HourlyCharge_e8(17'000'000, 3054), 144'217);
  // private_cert_hourly: 0.0245 per hour.
  EXPECT_EQ(HourlyCharge_e8(245'000'000, 3000), 2'041'667);
  EXPECT_EQ(HourlyCharge_e8(245'000'000, 3600), 2'450'000);
  EXPECT_EQ(HourlyCharge_e8(245'000'000, 0), 0);
}

TEST(MoneyTest, DivRoundHalfUpRoundsHalfAwayFromZero) {
  EXPECT_EQ(DivRoundHalfUp(5, 10), 1);
  EXPECT_EQ(DivRoundHalfUp(4, 10), 0);
  EXPECT_EQ(DivRoundHalfUp(-5, 10), -1);
  EXPECT_EQ(DivRoundHalfUp(-4, 10), 0);
  EXPECT_EQ(DivRoundHalfUp(15, 10), 2);
  EXPECT_EQ(DivRoundHalfUp(-15, 10), -2);
}

struct DecimalCase {
  const char* text;
  int scale_digits;
  bool allow_negative;
  std::optional<int64_t> expected;
};

TEST(MoneyTest, ParseDecimalTable) {
  const DecimalCase cases[] = {
      {"0.0245", 10, false, 245'000'000},
      {"1500", 10, false, 15'000'000'000'000},
      {"0.0000000001", 10, false, 1},
      {"0.00000000001", 10, false, std::nullopt},  // 11 fractional digits
      {"-2.00", 8, true, -200'000'000},
      {"-2.00", 8, false, std::nullopt},
      {"1.", 8, true, std::nullopt},
      {".5", 8, true, std::nullopt},
      {"+1", 8, true, std::nullopt},
      {"1e3", 8, true, std::nullopt},
      {"", 8, true, std::nullopt},
      {"-", 8, true, std::nullopt},
      {"1 ", 8, true, std::nullopt},
      {"12.123456789", 8, true, std::nullopt},
      {"99999999999999999999", 8, true, std::nullopt},  // beyond units_max
  };
  for (const DecimalCase& c : cases) {
    EXPECT_EQ(ParseDecimal(c.text, c.scale_digits, c.allow_negative, kAmountUnitsMax), c.expected)
        << c.text;
  }
}

TEST(MoneyTest, FormatAmountKeepsEightPlaces) {
  EXPECT_EQ(FormatAmount_e8(150'000'000'000), "1500.00000000");
  EXPECT_EQ(FormatAmount_e8(-48'294'936'131), "-482.94936131");
  EXPECT_EQ(FormatAmount_e8(1), "0.00000001");
  EXPECT_EQ(FormatAmount_e8(-1), "-0.00000001");
  EXPECT_EQ(FormatAmount_e8(0), "0.00000000");
}

TEST(MoneyTest, FormatRoundedAmountRoundsOnlyTheTotal) {
  // billing-rules.md: lines summing to 0.83822466 total 0.84.
  EXPECT_EQ(FormatRoundedAmount(83'822'466, 2), "0.84");
  EXPECT_EQ(FormatRoundedAmount(-193'465'442'518, 2), "-1934.65");
  EXPECT_EQ(FormatRoundedAmount(90'000'465'139, 2), "900.00");
  // Half away from zero; zero has no sign.
  EXPECT_EQ(FormatRoundedAmount(-500'000, 2), "-0.01");
  EXPECT_EQ(FormatRoundedAmount(500'000, 2), "0.01");
  EXPECT_EQ(FormatRoundedAmount(-499'999, 2), "0.00");
  // JPY has no minor unit.
  EXPECT_EQ(FormatRoundedAmount(150'000'000, 0), "2");
  EXPECT_EQ(FormatRoundedAmount(-150'000'000, 0), "-2");
}

TEST(MoneyTest, FormatPriceTrimsTrailingZeros) {
  EXPECT_EQ(FormatPrice_e10(245'000'000), "0.0245");
  EXPECT_EQ(FormatPrice_e10(15'000'000'000'000), "1500");
  EXPECT_EQ(FormatPrice_e10(1'200'000'000), "0.12");
  EXPECT_EQ(FormatPrice_e10(1), "0.0000000001");
  EXPECT_EQ(FormatPrice_e10(0), "0");
}

TEST(MoneyTest, PriceTimesQuantity) {
  EXPECT_EQ(PriceTimes(85'000'000'000, 1), 850'000'000);  // 8.50
  EXPECT_EQ(PriceTimes(15'000'000'000'000, 12), 1'800'000'000'000);  // 1500 x 12
  // A unit price keeps 10 places; the charge is rounded half up to 8:
  // 0.000000005 -> 0.00000001, 0.0000000049 -> 0.
  EXPECT_EQ(PriceTimes(50, 1), 1);
  EXPECT_EQ(PriceTimes(49, 1), 0);
  EXPECT_EQ(PriceTimes(5, 100), 5);
}

TEST(MoneyTest, KnownCurrenciesAndTheirMinorUnits) {
  EXPECT_EQ(FindCurrency("USD")->minor_digits, 2);
  EXPECT_EQ(FindCurrency("JPY")->minor_digits, 0);
  EXPECT_EQ(FindCurrency("KRW")->minor_digits, 0);
  EXPECT_EQ(FindCurrency("GBP")->minor_digits, 2);
  EXPECT_FALSE(FindCurrency("usd").has_value());
  EXPECT_FALSE(FindCurrency("XYZ").has_value());
}

}  // namespace
}  // namespace ledger
