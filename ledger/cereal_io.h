// Cereal portable-binary encoding into and out of memory, without iostream
// copies. Cereal reports bad input by throwing; DecodeCereal turns that into a
// Corruption Status at this edge, so nothing above it sees an exception.

#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cstdint>
#include <istream>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ledger {

namespace internal {
// The size of the input DecodeCereal is decoding on this thread (SIZE_MAX
// outside it): the bound the size tag loader below holds sizes to.
inline thread_local size_t cereal_input_bytes = SIZE_MAX;
}  // namespace internal

}  // namespace ledger

namespace cereal {

// Cereal reads a string's or a vector's size and allocates that much before
// reading the elements: a corrupt size would ask for up to 2^64 elements (an
// abort under ASan, an out-of-memory kill or a bad_alloc otherwise). Every
// element takes at least one byte of input, so a size above the input's
// length is corrupt: refuse it before anything is allocated. This overload is
// an exact match, so it wins over Cereal's generic SizeTag serializer.
inline void CEREAL_SERIALIZE_FUNCTION_NAME(PortableBinaryInputArchive& ar,
                                           SizeTag<size_type&>& tag) {
  ar(tag.size);
  if (tag.size > ledger::internal::cereal_input_bytes) {
    throw Exception("size " + std::to_string(tag.size) + " exceeds the record's " +
                    std::to_string(ledger::internal::cereal_input_bytes) + " bytes");
  }
}

}  // namespace cereal

namespace ledger {

// A bool as Cereal stores it (one byte), read back only when that byte is 0
// or 1: any other byte would make an invalid bool (undefined behaviour), and
// records that carry no hash of their own (the rules' state) must not.
struct CheckedBool {
  bool& value;

  template <class Archive>
  void save(Archive& ar) const {
    const uint8_t byte = value ? 1 : 0;
    ar(byte);
  }
  template <class Archive>
  void load(Archive& ar) {
    uint8_t byte = 0;
    ar(byte);
    if (byte > 1) throw cereal::Exception("a bool stored as byte " + std::to_string(byte));
    value = byte == 1;
  }
};

// A streambuf that appends everything written to a caller's string.
class StringSinkBuf : public std::streambuf {
 public:
  explicit StringSinkBuf(std::string* out) : out_(out) {}

 protected:
  int_type overflow(int_type ch) override {
    if (ch != traits_type::eof()) out_->push_back(static_cast<char>(ch));
    return ch;
  }
  std::streamsize xsputn(const char* data, std::streamsize count) override {
    out_->append(data, static_cast<size_t>(count));
    return count;
  }

 private:
  std::string* out_;
};

// A streambuf reading from memory the caller keeps alive.
class MemorySourceBuf : public std::streambuf {
 public:
  explicit MemorySourceBuf(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // read only: setg needs char*
    setg(begin, begin, begin + bytes.size());
  }
};

// Appends the portable-binary encoding of `value` to `*out`.
template <typename T>
void EncodeCereal(const T& value, std::string* out) {
  StringSinkBuf buf(out);
  std::ostream stream(&buf);
  cereal::PortableBinaryOutputArchive archive(stream);
  archive(value);
}

// Decodes `bytes`, which must hold exactly one encoded value.
template <typename T>
Status DecodeCereal(std::string_view bytes, T* value) {
  // FORMAT.md: every Cereal encoding is little-endian and says so in its
  // first byte; Cereal would byte-swap anything else without a word.
  if (bytes.empty() || bytes[0] != 1) return Status::Corruption("not a little-endian record");
  MemorySourceBuf buf(bytes);
  std::istream stream(&buf);
  const size_t outer_input_bytes = internal::cereal_input_bytes;
  internal::cereal_input_bytes = bytes.size();
  struct Restore {
    size_t bytes;
    ~Restore() { internal::cereal_input_bytes = bytes; }
  } restore{outer_input_bytes};
  try {
    cereal::PortableBinaryInputArchive archive(stream);
    archive(*value);
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("undecodable record: ") + e.what());
  }
  if (stream.peek() != std::char_traits<char>::eof()) {
    return Status::Corruption("trailing bytes after record");
  }
  return Status::Ok();
}

}  // namespace ledger
