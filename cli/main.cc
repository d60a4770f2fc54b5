#include <cstdio>
#include <new>
#include <stdexcept>

#include "cli/commands.h"

// A run-time failure that no command turned into a message (a library's
// std::filesystem_error, an allocation) still ends with one and the "cannot
// run" status, not an abort; a logic error (a bug) still aborts. What was
// appended before it is stored whole: batches are atomic.
int main(int argc, char** argv) {
  try {
    return ledger::cli::Main(argc, argv);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "ledger: stopped by an unexpected error: %s\n", e.what());
  } catch (const std::bad_alloc& e) {
    std::fprintf(stderr, "ledger: stopped: out of memory (%s)\n", e.what());
  }
  return ledger::cli::kExitCannotRun;
}
