// Folders of their own in the temporary folder ($TMPDIR, else /tmp) for a
// process's scratch files (a read beside the writer's info log, verify's
// scratch ledger), locked while in use, so that those a killed process
// left behind are removed by the next process that makes one.

#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "ledger/status.h"

namespace ledger::internal {

inline constexpr std::string_view kSecondaryDirPrefix = "ledger-secondary.";
inline constexpr std::string_view kVerifyDirPrefix = "ledger-verify.";

// Makes `<temp>/<prefix><pid>.XXXXXX` and locks it (flock); the path and
// the descriptor, which holds the lock until closed. It first removes this
// user's folders of that prefix that nobody holds and that are over 10 s
// old (the first 10,000 entries of the temporary folder are looked at).
// `what` names the folder in errors ("a folder to read beside the writer").
Result<std::pair<std::string, int>> MakeLockedTempDir(std::string_view prefix,
                                                      std::string_view what);

}  // namespace ledger::internal
