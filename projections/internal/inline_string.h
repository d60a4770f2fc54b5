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
#include <string_view>

#include "ledger/status.h"

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
  InlineString(InlineString&& other) noexcept { Take(&other); }
  InlineString& operator=(InlineString&& other) noexcept {
    if (this != &other) {
      FreeHeap();
      Take(&other);
    }
    return *this;
  }
  ~InlineString() { FreeHeap(); }

  // Replaces the bytes; reuses the heap block while the text needs one and
  // fits in it.
  void assign(std::string_view text) {
    LEDGER_CHECK(text.size() <= UINT32_MAX);
    if (text.size() <= kInlineBytes) {
      FreeHeap();
    } else if (text.size() > heap_bytes_) {
      FreeHeap();
      heap_ = new char[text.size()];
      heap_bytes_ = static_cast<uint32_t>(text.size());
    }
    if (!text.empty()) std::memcpy(data(), text.data(), text.size());
    size_ = static_cast<uint32_t>(text.size());
  }

  std::string_view view() const { return {data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: a string's view
  size_t size() const { return size_; }

 private:
  const char* data() const { return heap_bytes_ != 0 ? heap_ : inline_; }
  char* data() { return heap_bytes_ != 0 ? heap_ : inline_; }

  void FreeHeap() {
    if (heap_bytes_ == 0) return;
    delete[] heap_;
    heap_bytes_ = 0;
  }
  // Takes `other`'s bytes (its heap block, if it has one); `other` is left
  // empty. This one must hold no heap block.
  void Take(InlineString* other) {
    size_ = other->size_;
    heap_bytes_ = other->heap_bytes_;
    if (heap_bytes_ != 0) {
      heap_ = other->heap_;
    } else {
      std::memcpy(inline_, other->inline_, size_);
    }
    other->size_ = 0;
    other->heap_bytes_ = 0;
  }

  // Sizes in 32 bits and the heap pointer over the inline bytes: a 40-byte
  // key takes 48 bytes, not 64, so more cache entries share a cache line.
  uint32_t size_ = 0;
  uint32_t heap_bytes_ = 0;  // non-zero while the bytes are on the heap
  union {
    char inline_[kInlineBytes];
    char* heap_;
  };
};

}  // namespace ledger::projections::internal
