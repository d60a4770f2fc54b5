#include "cli/commands.h"

int main(int argc, char** argv) { return ledger::cli::Main(argc, argv); }
