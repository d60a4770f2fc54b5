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
  explicit StringSinkBuf(std::string* out = nullptr) : out_(out) {}
  void Reset(std::string* out) { out_ = out; }

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
  explicit MemorySourceBuf(std::string_view bytes = {}) { Reset(bytes); }
  void Reset(std::string_view bytes) {
    char* begin = const_cast<char*>(bytes.data());  // read only: setg needs char*
    setg(begin, begin, begin + bytes.size());
  }
};

namespace internal {

// Building a stream costs a locale, more than coding a small record does (a
// tenth of a replay's decoding): each thread reuses one stream per
// direction. A nested call, which nothing makes today, builds its own.
template <typename Buf, typename Stream>
struct ReusedStream {
  Buf buf;
  Stream stream{&buf};
  bool busy = false;
};
inline thread_local ReusedStream<StringSinkBuf, std::ostream> output_stream;
inline thread_local ReusedStream<MemorySourceBuf, std::istream> input_stream;

// The thread's stream for a scope, or null while an outer call holds it.
template <typename Reused>
class StreamLease {
 public:
  explicit StreamLease(Reused* reused) : reused_(reused->busy ? nullptr : reused) {
    if (reused_ != nullptr) reused_->busy = true;
  }
  ~StreamLease() {
    if (reused_ != nullptr) reused_->busy = false;
  }
  StreamLease(const StreamLease&) = delete;
  StreamLease& operator=(const StreamLease&) = delete;
  Reused* get() const { return reused_; }

 private:
  Reused* reused_;
};

template <typename T>
void EncodeCerealTo(std::ostream& stream, const T& value) {
  cereal::PortableBinaryOutputArchive archive(stream);
  archive(value);
}

template <typename T>
Status DecodeCerealFrom(std::istream& stream, size_t bytes, T* value) {
  const size_t outer_input_bytes = cereal_input_bytes;
  cereal_input_bytes = bytes;
  struct Restore {
    size_t bytes;
    ~Restore() { cereal_input_bytes = bytes; }
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

}  // namespace internal

// Appends the portable-binary encoding of `value` to `*out`.
template <typename T>
void EncodeCereal(const T& value, std::string* out) {
  internal::StreamLease lease(&internal::output_stream);
  if (lease.get() == nullptr) {
    StringSinkBuf buf(out);
    std::ostream stream(&buf);
    internal::EncodeCerealTo(stream, value);
    return;
  }
  lease.get()->buf.Reset(out);
  lease.get()->stream.clear();
  internal::EncodeCerealTo(lease.get()->stream, value);
}

// Decodes `bytes`, which must hold exactly one encoded value.
template <typename T>
Status DecodeCereal(std::string_view bytes, T* value) {
  // FORMAT.md: every Cereal encoding is little-endian and says so in its
  // first byte; Cereal would byte-swap anything else without a word.
  if (bytes.empty() || bytes[0] != 1) return Status::Corruption("not a little-endian record");
  internal::StreamLease lease(&internal::input_stream);
  if (lease.get() == nullptr) {
    MemorySourceBuf buf(bytes);
    std::istream stream(&buf);
    return internal::DecodeCerealFrom(stream, bytes.size(), value);
  }
  lease.get()->buf.Reset(bytes);
  lease.get()->stream.clear();
  return internal::DecodeCerealFrom(lease.get()->stream, bytes.size(), value);
}

}  // namespace ledger
