#include <cstdio>
#include <exception>

#include "cli/commands.h"

// An exception that no command turned into a message (a library's, the
// allocator's) still ends with one and the "cannot run" status, not an abort.
// What was appended before it is stored whole: batches are atomic.
int main(int argc, char** argv) {
  try {
    return ledger::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ledger: stopped by an unexpected error: %s\n", e.what());
    return ledger::cli::kExitCannotRun;
  }
}
