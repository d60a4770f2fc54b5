#include "ledger/event_codec.h"

#include <openssl/evp.h>

#include <memory>
#include <string>

#include <cereal/types/array.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "ledger/cereal_io.h"

// Cereal serializers of the event types. Each type carries a class version:
// a field added later is read only when the version says it was written, so
// old logs keep loading (FORMAT.md, "Versioning").
namespace ledger {

// Every struct below is at class version 1 (kClassVersion<T>; a struct that
// gains a field raises its own). A stored value naming a version this code
// does not know was not written by it: Corruption, never a guess at its
// layout (a newer writer's fields would be misread).
template <class T>
inline constexpr std::uint32_t kClassVersion = 1;

// A class version, where Cereal's versioning puts it: a u32 before the first
// object of each type in a value. Cereal finds "first" at run time, with a
// hash-set insert and a heap node per type and value (CEREAL_CLASS_VERSION);
// here the layout says it, and the bytes are the same (pinned by
// EventCodecTest.StoredBytesArePinned). Every type appears at most once in
// a value, except HourSlice and OrderRefund, which appear only in their own
// vectors in Rating: see VersionedElements. Returns the version, for a later
// field's `if (version >= 2)`.
template <class T, class Archive>
std::uint32_t ClassVersion(Archive& ar) {
  std::uint32_t version = kClassVersion<T>;
  ar(version);
  if (version < 1 || version > kClassVersion<T>) {
    throw cereal::Exception("unknown class version " + std::to_string(version));
  }
  return version;
}

// An enum travels as its byte. Loaded, a byte outside the values the enum
// may hold there is damage, refused like any other: a stored event never
// holds one, since the ledger judged it first.
template <class Archive>
void CheckEnum(bool valid, const char* name, int value) {
  if constexpr (Archive::is_loading::value) {
    if (!valid) throw cereal::Exception(std::string(name) + " byte " + std::to_string(value));
  }
}

template <class Archive>
void serialize(Archive& ar, Period& p) {
  ClassVersion<Period>(ar);
  ar(p.year, p.month);
}
template <class Archive>
void serialize(Archive& ar, PriceSet& e) {
  ClassVersion<PriceSet>(ar);
  ar(e.sku, e.currency, e.unit_price_e10);
}
template <class Archive>
void serialize(Archive& ar, AccountOpened& e) {
  ClassVersion<AccountOpened>(ar);
  ar(e.currency);
}
template <class Archive>
void serialize(Archive& ar, SslCertificatePurchased& e) {
  ClassVersion<SslCertificatePurchased>(ar);
  ar(e.order_id, e.ca, e.cert_type, e.domain_type, e.domains, e.years);
}
template <class Archive>
void serialize(Archive& ar, SslCertificateRefunded& e) {
  ClassVersion<SslCertificateRefunded>(ar);
  ar(e.order_id);
}
template <class Archive>
void serialize(Archive& ar, SslExpansionPurchased& e) {
  ClassVersion<SslExpansionPurchased>(ar);
  ar(e.order_id, e.quantity);
}
template <class Archive>
void serialize(Archive& ar, ResourceCreated& e) {
  ClassVersion<ResourceCreated>(ar);
  // A bool travels as one byte, 0 or 1. Loaded straight into a bool, any
  // other byte would make a bool that is neither (undefined behaviour when
  // read): read it as a byte and refuse the rest.
  uint8_t auto_renew = e.auto_renew ? 1 : 0;
  ar(e.resource_id, e.resource_type, e.ca_type, e.billing_mode, e.period_unit, e.periods,
     auto_renew);
  if (auto_renew > 1) throw cereal::Exception("auto_renew byte " + std::to_string(auto_renew));
  e.auto_renew = auto_renew == 1;
  CheckEnum<Archive>(IsValid(e.resource_type), "resource_type", static_cast<int>(e.resource_type));
  CheckEnum<Archive>(IsValid(e.ca_type), "ca_type", static_cast<int>(e.ca_type));
  CheckEnum<Archive>(IsValid(e.billing_mode), "billing_mode", static_cast<int>(e.billing_mode));
  CheckEnum<Archive>(IsValid(e.period_unit), "period_unit", static_cast<int>(e.period_unit));
}
template <class Archive>
void serialize(Archive& ar, UsageRecorded& e) {
  ClassVersion<UsageRecorded>(ar);
  ar(e.resource_id, e.from_s, e.to_s);
}
template <class Archive>
void serialize(Archive& ar, SubscriptionRenewed& e) {
  ClassVersion<SubscriptionRenewed>(ar);
  ar(e.resource_id, e.period_unit, e.periods);
  CheckEnum<Archive>(IsValid(e.period_unit) && e.period_unit != PeriodUnit::kNone, "period_unit",
                     static_cast<int>(e.period_unit));
}
template <class Archive>
void serialize(Archive& ar, SubscriptionUnsubscribed& e) {
  ClassVersion<SubscriptionUnsubscribed>(ar);
  ar(e.resource_id);
}
template <class Archive>
void serialize(Archive& ar, ResourceDeleted& e) {
  ClassVersion<ResourceDeleted>(ar);
  ar(e.resource_id);
}
template <class Archive>
void serialize(Archive& ar, BillingModeChangeRequested& e) {
  ClassVersion<BillingModeChangeRequested>(ar);
  ar(e.resource_id, e.billing_mode);
  CheckEnum<Archive>(IsValid(e.billing_mode), "billing_mode", static_cast<int>(e.billing_mode));
}
template <class Archive>
void serialize(Archive& ar, AdjustmentPosted& e) {
  ClassVersion<AdjustmentPosted>(ar);
  ar(e.amount_e8, e.reason);
}
template <class Archive>
void serialize(Archive& ar, InvoiceFinalized& e) {
  ClassVersion<InvoiceFinalized>(ar);
  ar(e.period);
}
// HourSlice and OrderRefund carry no version of their own: their vectors in
// Rating write it once, before the first element (VersionedElements).
template <class Archive>
void serialize(Archive& ar, HourSlice& s) {
  ar(s.hour_start_s, s.seconds, s.price_per_hour_e10);
}
template <class Archive>
void serialize(Archive& ar, OrderRefund& r) {
  ar(r.order_event_id, r.paid_e8, r.unused_e8, r.fee_e8);
}

// A vector as Cereal lays it out (its size, then its elements), with the
// element type's class version before the first element, where Cereal's
// versioning puts it when no object of the type came earlier in the value.
template <class Archive, class T>
void VersionedElements(Archive& ar, std::vector<T>& elements) {
  cereal::size_type size = elements.size();
  ar(cereal::make_size_tag(size));  // loaded, bounded by the value's size
  if constexpr (Archive::is_loading::value) elements.resize(static_cast<size_t>(size));
  if (size > 0) ClassVersion<T>(ar);
  for (T& element : elements) ar(element);
}

template <class Archive>
void serialize(Archive& ar, Rating& r) {
  ClassVersion<Rating>(ar);
  ar(r.amount_e8, r.unit_price_e10, r.list_amount_e8, r.order_start_s, r.order_end_s);
  VersionedElements(ar, r.hours);
  VersionedElements(ar, r.refunds);
  ar(r.invoice_number);
}

namespace {

// The envelope without its hashes: what the body of a stored value encodes.
struct EnvelopeBody {
  Envelope* envelope;
};

}  // namespace

// Version 2 adds the rules version the event was judged under; a version-1
// body was judged under rules version 1.
template <>
inline constexpr std::uint32_t kClassVersion<EnvelopeBody> = kBodyClassVersion;

namespace {

template <class Archive>
void SavePayload(Archive& ar, const Payload& payload) {
  std::visit([&ar](const auto& event) { ar(event); }, payload);
}

// Replaces *payload with a default-constructed alternative of `type`, then
// reads it. Cereal needs a mutable object of the right alternative.
template <class Archive>
void LoadPayload(Archive& ar, EventType type, Payload* payload) {
  switch (type) {
    case EventType::kPriceSet: *payload = PriceSet{}; break;
    case EventType::kAccountOpened: *payload = AccountOpened{}; break;
    case EventType::kSslCertificatePurchased: *payload = SslCertificatePurchased{}; break;
    case EventType::kSslCertificateRefunded: *payload = SslCertificateRefunded{}; break;
    case EventType::kSslExpansionPurchased: *payload = SslExpansionPurchased{}; break;
    case EventType::kResourceCreated: *payload = ResourceCreated{}; break;
    case EventType::kUsageRecorded: *payload = UsageRecorded{}; break;
    case EventType::kSubscriptionRenewed: *payload = SubscriptionRenewed{}; break;
    case EventType::kSubscriptionUnsubscribed: *payload = SubscriptionUnsubscribed{}; break;
    case EventType::kResourceDeleted: *payload = ResourceDeleted{}; break;
    case EventType::kBillingModeChangeRequested: *payload = BillingModeChangeRequested{}; break;
    case EventType::kAdjustmentPosted: *payload = AdjustmentPosted{}; break;
    case EventType::kInvoiceFinalized: *payload = InvoiceFinalized{}; break;
    default:
      throw cereal::Exception("unknown event type " + std::to_string(static_cast<int>(type)));
  }
  std::visit([&ar](auto& event) { ar(event); }, *payload);
}

template <class Archive>
void save(Archive& ar, const EnvelopeBody& body) {
  ClassVersion<EnvelopeBody>(ar);
  const Envelope& e = *body.envelope;
  ar(e.seq, e.event_id, e.account, static_cast<uint8_t>(e.type()), e.occurred_at_s,
     e.recorded_at_us, e.content_digest);
  SavePayload(ar, e.payload);
  ar(e.rating, e.rules_version);
}

template <class Archive>
void load(Archive& ar, EnvelopeBody& body) {
  const std::uint32_t version = ClassVersion<EnvelopeBody>(ar);
  Envelope& e = *body.envelope;
  uint8_t type = 0;
  ar(e.seq, e.event_id, e.account, type, e.occurred_at_s, e.recorded_at_us, e.content_digest);
  LoadPayload(ar, static_cast<EventType>(type), &e.payload);
  ar(e.rating);
  e.rules_version = 1;
  if (version >= 2) ar(e.rules_version);
  if (e.rules_version < 1 || e.rules_version > kRulesVersion) {
    throw cereal::Exception("unknown rules version " + std::to_string(e.rules_version));
  }
}

}  // namespace
}  // namespace ledger

namespace ledger {

namespace {
// OpenSSL 3's one-shot SHA256() looks the algorithm up on every call, which
// cost more than the hashing itself on the append path: fetch it once.
const EVP_MD* Sha256Algorithm() {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  LEDGER_CHECK(kSha256 != nullptr);
  return kSha256;
}
}  // namespace

Sha256Hasher::Sha256Hasher() : context_(EVP_MD_CTX_new()) {
  LEDGER_CHECK(context_ != nullptr && EVP_DigestInit_ex2(context_, Sha256Algorithm(), nullptr) == 1);
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(context_); }

void Sha256Hasher::Update(std::string_view bytes) {
  LEDGER_CHECK(EVP_DigestUpdate(context_, bytes.data(), bytes.size()) == 1);
}

Sha256 Sha256Hasher::Finish() {
  Sha256 hash;
  unsigned int size = 0;
  LEDGER_CHECK(EVP_DigestFinal_ex(context_, hash.data(), &size) == 1 && size == hash.size());
  return hash;
}

Sha256 HashBytes(std::string_view bytes) {
  // One context per thread, reused.
  const EVP_MD* const kSha256 = Sha256Algorithm();
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  LEDGER_CHECK(context != nullptr);
  Sha256 hash;
  unsigned int size = 0;
  LEDGER_CHECK(EVP_DigestInit_ex2(context.get(), kSha256, nullptr) == 1 &&
               EVP_DigestUpdate(context.get(), bytes.data(), bytes.size()) == 1 &&
               EVP_DigestFinal_ex(context.get(), hash.data(), &size) == 1 && size == hash.size());
  return hash;
}

std::string HexOf(const Sha256& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (uint8_t byte : hash) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 15]);
  }
  return hex;
}

void EncodeEnvelope(const Sha256& prev_hash, Envelope* envelope, std::string* out) {
  const size_t value_begin = out->size();
  out->push_back(static_cast<char>(kValueFormatV1));
  EncodeCereal(EnvelopeBody{envelope}, out);
  out->append(reinterpret_cast<const char*>(prev_hash.data()), prev_hash.size());
  envelope->prev_hash = prev_hash;
  envelope->hash = HashBytes(std::string_view(*out).substr(value_begin));
  out->append(reinterpret_cast<const char*>(envelope->hash.data()), envelope->hash.size());
}

Status DecodeEnvelope(std::string_view value, Envelope* envelope) {
  constexpr size_t kHashBytes = sizeof(Sha256);
  if (value.size() < 1 + 2 * kHashBytes) return Status::Corruption("event value too short");
  if (static_cast<uint8_t>(value[0]) != kValueFormatV1) {
    return Status::Corruption("unknown event value format " +
                              std::to_string(static_cast<uint8_t>(value[0])));
  }
  const std::string_view hashed = value.substr(0, value.size() - kHashBytes);
  std::copy_n(value.end() - kHashBytes, kHashBytes, envelope->hash.begin());
  if (HashBytes(hashed) != envelope->hash) return Status::Corruption("event hash mismatch");
  std::copy_n(value.end() - 2 * kHashBytes, kHashBytes, envelope->prev_hash.begin());
  EnvelopeBody body{envelope};
  return DecodeCereal(value.substr(1, value.size() - 1 - 2 * kHashBytes), &body);
}

}  // namespace ledger
