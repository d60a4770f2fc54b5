#include "ledger/internal/batch_ids.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

namespace ledger::internal {
namespace {

std::string Id(const char* prefix, uint64_t i) { return prefix + std::to_string(i); }

void ExpectHolds(const BatchIds<uint64_t>& ids, const char* prefix, uint64_t count) {
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t* found = ids.Find(Id(prefix, i));
    ASSERT_NE(found, nullptr) << prefix << i;
    EXPECT_EQ(*found, i);
  }
  EXPECT_EQ(ids.Find(Id(prefix, count)), nullptr);
  EXPECT_EQ(ids.map().size(), count);
}

// Ids across 64 KiB blocks, and one longer than a block, are all found with
// their values once the table has moved.
TEST(BatchIdsTest, IdsAcrossBlocksAreFoundAfterAMove) {
  BatchIds<uint64_t> ids;
  for (uint64_t i = 0; i < 10'000; ++i) ids.InsertOrAssign(Id("evt-", i), i);
  const std::string long_id(100 << 10, 'x');
  ids.InsertOrAssign(long_id, 10'000);
  BatchIds<uint64_t> moved = std::move(ids);
  ASSERT_NE(moved.Find(long_id), nullptr);
  EXPECT_EQ(*moved.Find(long_id), 10'000u);
  EXPECT_EQ(moved.map().size(), 10'001u);
  EXPECT_EQ(moved.Find("evt-10000"), nullptr);
  for (uint64_t i = 0; i < 10'000; ++i) ASSERT_EQ(*moved.Find(Id("evt-", i)), i);
}

// As the store uses a pair of them: the pending batch's table is swapped
// with the sealed one, which is cleared once written and then fills with a
// later batch, in the blocks it kept.
TEST(BatchIdsTest, SwappedClearedAndRefilledTablesKeepTheirIds) {
  BatchIds<uint64_t> pending;
  BatchIds<uint64_t> sealed;
  for (uint64_t i = 0; i < 5'000; ++i) pending.InsertOrAssign(Id("first-", i), i);
  std::swap(sealed, pending);
  EXPECT_TRUE(pending.empty());
  for (uint64_t i = 0; i < 7'000; ++i) pending.InsertOrAssign(Id("second-", i), i);
  ExpectHolds(sealed, "first-", 5'000);
  sealed.Clear();
  EXPECT_TRUE(sealed.empty());
  EXPECT_EQ(sealed.Find("first-1"), nullptr);
  std::swap(sealed, pending);
  for (uint64_t i = 0; i < 9'000; ++i) pending.InsertOrAssign(Id("third-", i), i);
  ExpectHolds(sealed, "second-", 7'000);
  ExpectHolds(pending, "third-", 9'000);
}

// A later batch fills the blocks an earlier one left, skipping those an id
// does not fit in, and adds a block when none is left.
TEST(BatchIdsTest, KeptBlocksAreFilledOrSkipped) {
  BatchIds<uint64_t> ids;
  ids.InsertOrAssign(std::string(100 << 10, 'a'), 1);  // a block of its own
  ids.InsertOrAssign("short", 2);                      // a 64 KiB block
  ids.Clear();
  const std::string first(70 << 10, 'b');   // into the 100 KiB block
  const std::string second(70 << 10, 'c');  // fits neither kept block: a new one
  ids.InsertOrAssign(first, 3);
  ids.InsertOrAssign(second, 4);
  ids.InsertOrAssign("after", 5);
  ASSERT_NE(ids.Find(first), nullptr);
  EXPECT_EQ(*ids.Find(first), 3u);
  ASSERT_NE(ids.Find(second), nullptr);
  EXPECT_EQ(*ids.Find(second), 4u);
  ASSERT_NE(ids.Find("after"), nullptr);
  EXPECT_EQ(*ids.Find("after"), 5u);
  EXPECT_EQ(ids.Find("short"), nullptr);
  EXPECT_EQ(ids.map().size(), 3u);
}

TEST(BatchIdsTest, AnIdIsStoredOnceWithItsLastValue) {
  BatchIds<uint64_t> ids;
  ids.InsertOrAssign("evt", 1);
  ids.InsertOrAssign("evt", 2);
  ASSERT_NE(ids.Find("evt"), nullptr);
  EXPECT_EQ(*ids.Find("evt"), 2u);
  EXPECT_EQ(ids.map().size(), 1u);
}

}  // namespace
}  // namespace ledger::internal
