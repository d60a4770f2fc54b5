// InlineString<N>: bytes kept in the object itself up to N, on the heap
// beyond. The projection cache's keys and values are mostly 16 to 40 bytes:
// kept inline, a lookup compares the key and copies the value from the hash
// table's slot it already loaded, instead of following a std::string to the
// heap for each (two cache misses per lookup, a quarter of a replay's
// applying thread).

#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace ledger::projections::internal {

template <size_t kInlineBytes>
class InlineString {
 public:
  InlineString() = default;
  explicit InlineString(std::string_view text) { assign(text); }
  InlineString(const InlineString& other) { assign(other.view()); }
  InlineString& operator=(const InlineString& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  InlineString(InlineString&& other) noexcept { *this = std::move(other); }
  InlineString& operator=(InlineString&& other) noexcept {
    if (this == &other) return *this;
    size_ = other.size_;
    heap_ = std::move(other.heap_);
    heap_bytes_ = other.heap_bytes_;
    if (size_ <= kInlineBytes) std::memcpy(inline_, other.inline_, size_);
    other.size_ = 0;
    other.heap_bytes_ = 0;
    return *this;
  }

  // Replaces the bytes; reuses the heap block when it is large enough.
  void assign(std::string_view text) {
    if (text.size() > kInlineBytes && text.size() > heap_bytes_) {
      heap_ = std::make_unique<char[]>(text.size());
      heap_bytes_ = text.size();
    }
    if (!text.empty()) std::memcpy(mutable_data(text.size()), text.data(), text.size());
    size_ = text.size();
  }

  std::string_view view() const { return {data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: a string's view
  size_t size() const { return size_; }

 private:
  const char* data() const { return size_ > kInlineBytes ? heap_.get() : inline_; }
  char* mutable_data(size_t size) { return size > kInlineBytes ? heap_.get() : inline_; }

  size_t size_ = 0;
  char inline_[kInlineBytes];
  std::unique_ptr<char[]> heap_;  // used while size_ > kInlineBytes
  size_t heap_bytes_ = 0;
};

}  // namespace ledger::projections::internal
