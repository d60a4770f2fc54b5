// Status and Result<T>: the channel for infrastructure failures (I/O,
// corruption, an unopenable ledger). Business outcomes, an event breaking a
// billing rule, are not Statuses: they are RuleError values (rule_error.h).
//
// Both types are plain values, safe to copy and to move between threads.

#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace ledger {

// An assertion that stays on in release builds: a programmer error crashes
// instead of corrupting a ledger.
#define LEDGER_CHECK(cond)                                                         \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

class [[nodiscard]] Status {
 public:
  // kNoSpace: an I/O error for want of disk space (a full disk), told apart
  // so that a read can go on without writing.
  enum class Code { kOk, kIoError, kCorruption, kInvalidArgument, kNotFound, kNoSpace };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status IoError(std::string message) { return Status(Code::kIoError, std::move(message)); }
  static Status Corruption(std::string message) {
    return Status(Code::kCorruption, std::move(message));
  }
  static Status InvalidArgument(std::string message) {
    return Status(Code::kInvalidArgument, std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(Code::kNotFound, std::move(message));
  }
  static Status NoSpace(std::string message) { return Status(Code::kNoSpace, std::move(message)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { LEDGER_CHECK(!status_.ok()); }  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() {
    LEDGER_CHECK(ok());
    return *value_;
  }
  const T& value() const {
    LEDGER_CHECK(ok());
    return *value_;
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

// Swallowing a Status is explicit and greppable.
inline void IgnoreError(const Status&) {}

#define LEDGER_RETURN_IF_ERROR(expr)  \
  do {                                \
    ::ledger::Status _st = (expr);    \
    if (!_st.ok()) return _st;        \
  } while (0)

}  // namespace ledger
