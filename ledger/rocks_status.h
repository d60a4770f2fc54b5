// A RocksDB status as the ledger's: damage (a block checksum, a missing table
// file) stays Corruption, so that `ledger verify` reports it as a failed
// check; anything else is an I/O error.

#pragma once

#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ledger {

inline Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  const std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return Status::Corruption(message);
  if (status.IsNoSpace()) return Status::NoSpace(message);
  return Status::IoError(message);
}

}  // namespace ledger
