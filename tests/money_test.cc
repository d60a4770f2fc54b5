#include "ledger/money.h"

#include <gtest/gtest.h>

namespace ledger {
namespace {

TEST(MoneyTest, HourlyChargeOfTheSpecExample) {
  // billing-rules.md section 3: 0.0017 per hour for 3054 s = 0.00144217.
  EXPECT_EQ(HourlyCharge_e8(17'000'000, 3054), 144'217);
}

}  // namespace
}  // namespace ledger
