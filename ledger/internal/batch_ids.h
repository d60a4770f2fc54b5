// BatchIds: the event ids of one append batch, each with a Value (the
// store's idempotency entry), which the batch itself cannot answer for (a
// WriteBatch is write-only). Every append looks its id up here and nearly
// always misses: open addressing answers a miss from one group of control
// bytes. The ids' bytes are copied into blocks that never move, so a batch
// of ids costs no allocation per id.
//
// The keys of map() are views into those blocks: valid until Clear or the
// table's destruction; they survive moving or swapping the table.
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
  // The blocks stay for the next batch, which would allocate as many again:
  // they hold at most one batch's ids (kAppendBatchEventsMax ids of at most
  // kEventIdBytesMax bytes). So does the table's size: clear() frees a large
  // table, which the next batch would regrow by rehashing, step by step.
  void Clear() {
    const size_t ids = map_.size();
    map_.clear();
    map_.reserve(ids);
    block_index_ = 0;
    block_used_bytes_ = 0;
  }
  bool empty() const { return map_.empty(); }
  const Map& map() const { return map_; }

 private:
  static constexpr size_t kBlockBytes = 64 << 10;
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size_bytes = 0;
  };

  std::string_view Store(std::string_view id) {
    while (block_index_ < blocks_.size() &&
           block_used_bytes_ + id.size() > blocks_[block_index_].size_bytes) {
      ++block_index_;
      block_used_bytes_ = 0;
    }
    if (block_index_ == blocks_.size()) {
      const size_t size_bytes = std::max(kBlockBytes, id.size());
      blocks_.push_back(Block{std::make_unique_for_overwrite<char[]>(size_bytes), size_bytes});
    }
    char* at = blocks_[block_index_].bytes.get() + block_used_bytes_;
    std::memcpy(at, id.data(), id.size());
    block_used_bytes_ += id.size();
    return std::string_view(at, id.size());
  }

  Map map_;
  std::vector<Block> blocks_;
  size_t block_index_ = 0;       // the block being filled
  size_t block_used_bytes_ = 0;  // of that block
};

}  // namespace ledger::internal
