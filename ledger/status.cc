#include "ledger/status.h"

namespace ledger {

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kIoError:
    case Code::kNoSpace:
      return "io error: " + message_;
    case Code::kCorruption:
      return "corruption: " + message_;
    case Code::kInvalidArgument:
      return "invalid argument: " + message_;
    case Code::kNotFound:
      return "not found: " + message_;
  }
  return message_;
}

}  // namespace ledger
