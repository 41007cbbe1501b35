#include "core/json_options.h"

#include <charconv>
#include <cmath>

#include "core/device.h"
#include "core/dtype.h"

namespace moonlight::json_options {

namespace {
// 2^53 − 1: beyond it a JS number no longer holds every integer.
constexpr double kMaxSafeInteger = 9007199254740991.0;

// A core parser's result; its failure keeps its kind and names the key.
template <typename Parse>
auto namingFailures(const std::string& name, Parse&& parse) {
  try {
    return parse();
  } catch (const Error& error) {
    fail(error.kind(), name + ": " + error.what());
  }
}
}  // namespace

bool isSafeInteger(double value) {
  return std::isfinite(value) && std::floor(value) == value && std::fabs(value) <= kMaxSafeInteger;
}

std::string formatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return "'" + value.get_ref<const std::string&>() + "'";
    case Json::value_t::number_float:
      return formatNumber(value.get<double>());
    case Json::value_t::object:
      return "an object";
    default:
      return value.dump();
  }
}

void expected(const std::string& name, const Json& value, const std::string& what, ErrorKind kind) {
  fail(kind, name + " is " + describe(value) + "; expected " + what);
}

void Range::operator()(double value, const std::string& name) const {
  if (!contains(value)) expected(name, Json(value), what);
}

void readValue(const Json& value, const std::string& name, bool& out) {
  if (!value.is_boolean()) expected(name, value, "true or false");
  out = value.get<bool>();
}

void readValue(const Json& value, const std::string& name, double& out) {
  if (!value.is_number()) expected(name, value, "a number");
  out = value.get<double>();
}

void readValue(const Json& value, const std::string& name, int64_t& out) {
  if (value.is_number_integer()) {  // from a BigInt: any int64, exactly
    out = value.get<int64_t>();
    return;
  }
  if (!value.is_number() || !isSafeInteger(value.get<double>())) expected(name, value, "an integer");
  out = static_cast<int64_t>(value.get<double>());
}

void readValue(const Json& value, const std::string& name, size_t& out) {
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    out = static_cast<size_t>(value.get<int64_t>());
    return;
  }
  if (!value.is_number() || !isSafeInteger(value.get<double>()) || value.get<double>() < 0) {
    expected(name, value, "a non-negative integer");
  }
  out = static_cast<size_t>(value.get<double>());
}

void readValue(const Json& value, const std::string& name, std::string& out) {
  if (!value.is_string()) expected(name, value, "a string");
  out = value.get<std::string>();
}

void readValue(const Json& value, const std::string& name, c10::ScalarType& out) {
  if (!value.is_string()) expected(name, value, "a dtype name such as 'float32'");
  out = namingFailures(name, [&] { return scalarTypeFromName(value.get<std::string>()); });
}

void readValue(const Json& value, const std::string& name, c10::Device& out) {
  if (!value.is_string()) expected(name, value, "a device name such as 'cpu' or 'cuda:0'");
  out = namingFailures(name, [&] { return parseDevice(value.get<std::string>()); });
}

void readValue(const Json& value, const std::string& name, std::optional<c10::Device>& out) {
  if (value.is_null()) {
    out.reset();
    return;
  }
  c10::Device device(c10::DeviceType::CPU);
  readValue(value, name, device);
  out = device;
}

void rejectUnknownKeys(const Json& object, const std::string& where, const std::vector<const char*>& known) {
  for (const auto& [key, value] : object.items()) {
    bool isKnown = false;
    for (const char* name : known) isKnown = isKnown || key == name;
    if (isKnown) continue;
    std::string list;
    for (size_t i = 0; i < known.size(); ++i) list += (i == 0 ? "" : ", ") + std::string(known[i]);
    fail(ErrorKind::Config, where + "." + key + " is not an option; expected one of " + list);
  }
}

}  // namespace moonlight::json_options
