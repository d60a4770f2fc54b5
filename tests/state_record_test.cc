// The rules' state records carry no hash of their own: a damaged one must be
// a Corruption error, never a value (regression: a bool byte of 2 was read
// into a bool, which is undefined behaviour).

#include <gtest/gtest.h>

#include "ledger/cereal_io.h"
#include "ledger/internal/state.h"

namespace ledger {
namespace {

using internal::OrderState;
using internal::ResourceState;

TEST(StateRecordTest, ABoolByteOtherThanZeroOrOneIsCorruption) {
  ResourceState resource;
  resource.auto_renew = true;
  resource.deleted = false;
  std::string value;
  EncodeCereal(resource, &value);
  ResourceState decoded;
  ASSERT_TRUE(DecodeCereal(value, &decoded).ok());
  EXPECT_TRUE(decoded.auto_renew);
  EXPECT_FALSE(decoded.deleted);
  // Layout: endianness byte, class version u32, four enum bytes, then
  // auto_renew (ledger/FORMAT.md, Cereal conventions).
  constexpr size_t kAutoRenewOffset = 1 + 4 + 4;
  ASSERT_EQ(value[kAutoRenewOffset], 1);
  value[kAutoRenewOffset] = 2;
  EXPECT_EQ(DecodeCereal(value, &decoded).code(), Status::Code::kCorruption);

  OrderState order;
  order.refunded = true;
  value.clear();
  EncodeCereal(order, &value);
  value[value.size() - 1] = 2;  // `refunded` is the last field
  OrderState out;
  EXPECT_EQ(DecodeCereal(value, &out).code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace ledger
