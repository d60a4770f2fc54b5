// StringViewHash: a string's hash from its bytes, for tables of string keys
// looked up by std::string_view without building a key per lookup. (absl's
// own string hash takes absl::string_view, which Debian's absl does not
// alias to std::string_view, so it cannot serve these lookups.)
//
// Stateless; thread-safe.

#pragma once

#include <absl/hash/hash.h>

#include <cstddef>
#include <string_view>

namespace ledger::internal {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return absl::Hash<std::string_view>()(key); }
};

}  // namespace ledger::internal
