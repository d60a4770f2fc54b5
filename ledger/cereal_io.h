// Cereal portable-binary encoding into and out of memory, without iostream
// copies. Cereal reports bad input by throwing; DecodeCereal turns that into a
// Corruption Status at this edge, so nothing above it sees an exception.

#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <istream>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ledger {

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
  MemorySourceBuf buf(bytes);
  std::istream stream(&buf);
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
