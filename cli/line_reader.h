// LineReader: the lines of one input (a file or stdin), read in large chunks.
// A line longer than kLineBytesMax is cut to kLineBytesMax + 1 bytes and the
// rest of it dropped, so memory stays bounded whatever the input; the cut line
// is still too long, and the ledger rejects it as such. A final line without
// its newline is still a line; "\r\n" endings lose the "\r".
//
// Not thread-safe. The file descriptor must stay open while the reader is used.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ledger::cli {

class LineReader {
 public:
  explicit LineReader(int fd);

  // The next line and its 1-based number; false at the end of the input.
  // `*line` stays valid until the next call.
  Result<bool> Next(std::string_view* line, uint64_t* line_number);
  // True when the next Next() would have to wait for a read(2): the caller
  // flushes what it holds first, so interactive input gets answers promptly.
  // Never true for a regular file, whose reads do not wait: its lines go in
  // full batches.
  bool WouldRead() const;

 private:
  Status Fill();

  int fd_;
  bool regular_file_ = false;
  std::string buffer_;
  size_t start_ = 0;  // where the next line begins in buffer_
  bool eof_ = false;
  uint64_t line_number_ = 0;
  std::string cut_line_;  // an over-long line's kept prefix
};

}  // namespace ledger::cli
