#include "cli/line_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ledger/constants.h"

namespace ledger::cli {
namespace {
constexpr size_t kReadChunkBytes = 1 << 20;
}

LineReader::LineReader(int fd) : fd_(fd) {
  struct stat info;
  regular_file_ = fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
}

bool LineReader::WouldRead() const {
  if (regular_file_) return false;
  return !eof_ && buffer_.find('\n', start_) == std::string::npos;
}

Status LineReader::Fill() {
  // Drop consumed bytes before growing, so the buffer holds at most one
  // line's worth beyond a chunk.
  buffer_.erase(0, start_);
  start_ = 0;
  const size_t old_size = buffer_.size();
  buffer_.resize(old_size + kReadChunkBytes);
  ssize_t got;
  do {
    got = read(fd_, buffer_.data() + old_size, kReadChunkBytes);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    buffer_.resize(old_size);
    return Status::IoError(std::string("read failed: ") + std::strerror(errno));
  }
  buffer_.resize(old_size + static_cast<size_t>(got));
  eof_ = got == 0;
  return Status::Ok();
}

Result<bool> LineReader::Next(std::string_view* line, uint64_t* line_number) {
  bool cut = false;
  while (true) {
    const size_t newline = buffer_.find('\n', start_);
    if (newline != std::string::npos || (eof_ && start_ < buffer_.size())) {
      const size_t end = newline == std::string::npos ? buffer_.size() : newline;
      std::string_view text(buffer_.data() + start_, end - start_);
      start_ = newline == std::string::npos ? buffer_.size() : newline + 1;
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      *line_number = ++line_number_;
      *line = cut ? std::string_view(cut_line_) : text;
      return true;
    }
    if (eof_) {
      if (!cut) return false;
      *line_number = ++line_number_;
      *line = cut_line_;
      return true;
    }
    if (buffer_.size() - start_ > kLineBytesMax) {
      // Keep the first kLineBytesMax + 1 bytes of the line, drop the rest.
      if (!cut) cut_line_.assign(buffer_, start_, kLineBytesMax + 1);
      cut = true;
      start_ = buffer_.size();
    }
    LEDGER_RETURN_IF_ERROR(Fill());
  }
}

}  // namespace ledger::cli
