// RocksDB's info log (the LOG file), written so that a failed write loses
// its line and nothing else. RocksDB's own logger, as Debian builds it
// (with assertions), aborts the process at the write after a failed one: on
// a full disk every command died with SIGABRT instead of exiting 2.

#pragma once

#include <rocksdb/env.h>

#include <cstdint>
#include <memory>
#include <string>

namespace ledger::internal {

// Past this size the log is moved to LOG.old.1 (replacing it) when opened.
inline constexpr uintmax_t kInfoLogBytesMax = 1 << 20;

// A logger of RocksDB's warnings and errors appending to DIR/LOG. If that
// cannot be opened, it drops every line: RocksDB would otherwise make its
// own. RocksDB's threads call it at once: each line is one write(2) to a
// file opened O_APPEND, whole.
std::shared_ptr<rocksdb::Logger> OpenInfoLog(const std::string& dir);

}  // namespace ledger::internal
