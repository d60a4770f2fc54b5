// Exact money. Amounts are int64 counts of 10^-8 currency units (`*_e8`),
// unit prices int64 counts of 10^-10 units (`*_e10`). Products and sums that
// could leave 64 bits are formed in 128 bits; every division rounds half away
// from zero ("half up" in billing-rules.md, section 3). No floating point.
//
// Stateless functions; thread-safe.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ledger {

using Int128 = __int128;

// num / den rounded half away from zero. `den` must be positive.
Int128 DivRoundHalfUp(Int128 num, Int128 den);

// Parses a plain decimal string ("12", "-0.5", "0.0245") with at most
// `scale_digits` fractional digits into an integer at that scale. No sign but
// '-', no exponent, no leading or trailing dot. Returns nullopt when the text
// is not such a number or its magnitude exceeds `units_max` whole units.
std::optional<int64_t> ParseDecimal(std::string_view text, int scale_digits, bool allow_negative,
                                    int64_t units_max);

// "1234.50000000": an amount with exactly 8 fractional digits.
std::string FormatAmount_e8(int64_t amount_e8);
// An amount rounded half up to `minor_digits` places and printed with exactly
// that many ("1934.65", "-3", "0.00"). Zero prints without a sign.
std::string FormatRoundedAmount(Int128 amount_e8, int minor_digits);
// A unit price with trailing fractional zeros removed ("0.0245", "1500").
std::string FormatPrice_e10(int64_t price_e10);

// round_half_up(price * quantity, 8) for a unit price and an integer quantity.
// Returns nullopt beyond +-kAmountUnitsMax currency units, the most one
// charge may be.
std::optional<int64_t> PriceTimes(int64_t price_e10, int64_t quantity);
// round_half_up(price * seconds / 3600, 8): one hour's pay-per-use charge.
int64_t HourlyCharge_e8(int64_t price_per_hour_e10, int64_t seconds);

// Currency: an ISO 4217 code the ledger knows, and its minor unit.
struct Currency {
  std::string_view code;
  int minor_digits;
};
std::optional<Currency> FindCurrency(std::string_view code);

}  // namespace ledger
