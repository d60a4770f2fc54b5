#include "ledger/money.h"

#include <array>

#include "ledger/constants.h"
#include "ledger/status.h"

namespace ledger {
namespace {

constexpr std::array<Currency, 8> kCurrencies = {{
    {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CNY", 2},
    {"HKD", 2}, {"SGD", 2}, {"JPY", 0}, {"KRW", 0},
}};

int64_t Pow10(int digits) {
  int64_t result = 1;
  for (int i = 0; i < digits; ++i) result *= 10;
  return result;
}

// Appends the decimal digits of a non-negative 128-bit value.
void AppendDigits(Int128 value, std::string& out) {
  char buffer[48];
  int length = 0;
  do {
    buffer[length++] = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  } while (value > 0);
  while (length > 0) out.push_back(buffer[--length]);
}

// Prints `value` (scaled by 10^scale_digits) with exactly `shown_digits`
// fractional digits; `value` must already be a multiple of the dropped part.
std::string FormatScaled(Int128 value, int scale_digits, int shown_digits) {
  std::string out;
  if (value < 0) out.push_back('-');
  Int128 magnitude = value < 0 ? -value : value;
  const Int128 scale = Pow10(scale_digits);
  AppendDigits(magnitude / scale, out);
  if (shown_digits > 0) {
    out.push_back('.');
    Int128 fraction = (magnitude % scale) / Pow10(scale_digits - shown_digits);
    std::string digits;
    AppendDigits(fraction, digits);
    out.append(static_cast<size_t>(shown_digits) - digits.size(), '0');
    out += digits;
  }
  return out;
}

}  // namespace

Int128 DivRoundHalfUp(Int128 num, Int128 den) {
  LEDGER_CHECK(den > 0);
  const Int128 magnitude = num < 0 ? -num : num;
  const Int128 rounded = (magnitude * 2 + den) / (den * 2);
  return num < 0 ? -rounded : rounded;
}

std::optional<int64_t> ParseDecimal(std::string_view text, int scale_digits, bool allow_negative,
                                    int64_t units_max) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    if (!allow_negative) return std::nullopt;
    negative = true;
    ++i;
  }
  int64_t units = 0;
  size_t integer_digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++integer_digits) {
    units = units * 10 + (text[i] - '0');
    if (units > units_max) return std::nullopt;
  }
  if (integer_digits == 0) return std::nullopt;
  int64_t fraction = 0;
  int fraction_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (++fraction_digits > scale_digits) return std::nullopt;
      fraction = fraction * 10 + (text[i] - '0');
    }
    if (fraction_digits == 0) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  // In 128 bits: units_max at the scale may pass 2^63, which is rejected
  // here rather than wrapped.
  const Int128 scaled =
      Int128{units} * Pow10(scale_digits) + Int128{fraction} * Pow10(scale_digits - fraction_digits);
  if (scaled > INT64_MAX) return std::nullopt;
  return static_cast<int64_t>(negative ? -scaled : scaled);
}

std::string FormatAmount_e8(int64_t amount_e8) {
  return FormatScaled(amount_e8, kAmountScaleDigits, kAmountScaleDigits);
}

std::string FormatRoundedAmount(Int128 amount_e8, int minor_digits) {
  const Int128 step = Pow10(kAmountScaleDigits - minor_digits);
  const Int128 rounded = DivRoundHalfUp(amount_e8, step) * step;
  return FormatScaled(rounded, kAmountScaleDigits, minor_digits);
}

std::string FormatPrice_e10(int64_t price_e10) {
  int shown = kPriceScaleDigits;
  while (shown > 0 && (price_e10 % Pow10(kPriceScaleDigits - shown + 1)) == 0) --shown;
  return FormatScaled(price_e10, kPriceScaleDigits, shown);
}

std::optional<int64_t> PriceTimes(int64_t price_e10, int64_t quantity) {
  const Int128 amount_e8 = DivRoundHalfUp(Int128{price_e10} * quantity, kPriceToAmountDivisor);
  const Int128 limit_e8 = Int128{kAmountUnitsMax} * kAmountScale;
  if (amount_e8 > limit_e8 || amount_e8 < -limit_e8) return std::nullopt;
  return static_cast<int64_t>(amount_e8);
}

int64_t HourlyCharge_e8(int64_t price_per_hour_e10, int64_t seconds) {
  const Int128 amount_e8 =
      DivRoundHalfUp(Int128{price_per_hour_e10} * seconds, Int128{kHour_s} * kPriceToAmountDivisor);
  return static_cast<int64_t>(amount_e8);
}

std::optional<Currency> FindCurrency(std::string_view code) {
  for (const Currency& currency : kCurrencies) {
    if (currency.code == code) return currency;
  }
  return std::nullopt;
}

}  // namespace ledger
