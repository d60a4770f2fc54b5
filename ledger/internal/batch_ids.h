// BatchIds: the event ids of one append batch, each with a Value (the
// store's idempotency entry), which the batch itself cannot answer for (a
// WriteBatch is write-only). Every append looks its id up here and nearly
// always misses: open addressing answers a miss from one group of control
// bytes. The ids' bytes are copied into blocks that never move, so a batch
// of ids costs a few allocations instead of one per id, and Clear frees them
// at once.
//
// Not thread-safe; const lookups may run beside other const use.

#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "ledger/internal/string_view_hash.h"

namespace ledger::internal {

template <typename Value>
class BatchIds {
 public:
  using Map = absl::flat_hash_map<std::string_view, Value, StringViewHash>;

  const Value* Find(std::string_view id) const {
    const auto it = map_.find(id);
    return it == map_.end() ? nullptr : &it->second;
  }
  void InsertOrAssign(std::string_view id, const Value& value) {
    if (const auto it = map_.find(id); it != map_.end()) {
      it->second = value;
      return;
    }
    map_.emplace(Store(id), value);
  }
  // Keeps the first block for the next batch.
  void Clear() {
    map_.clear();
    if (blocks_.size() > 1) blocks_.resize(1);
    block_used_ = 0;
  }
  bool empty() const { return map_.empty(); }
  const Map& map() const { return map_; }

 private:
  static constexpr size_t kBlockBytes = 64 << 10;
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size = 0;
  };

  std::string_view Store(std::string_view id) {
    if (blocks_.empty() || block_used_ + id.size() > blocks_.back().size) {
      const size_t size = std::max(kBlockBytes, id.size());
      blocks_.push_back(Block{std::make_unique<char[]>(size), size});
      block_used_ = 0;
    }
    char* at = blocks_.back().bytes.get() + block_used_;
    std::memcpy(at, id.data(), id.size());
    block_used_ += id.size();
    return std::string_view(at, id.size());
  }

  Map map_;
  std::vector<Block> blocks_;
  size_t block_used_ = 0;  // of the last block
};

}  // namespace ledger::internal
