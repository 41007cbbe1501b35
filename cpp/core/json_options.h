// Reading a plain options struct from JSON with the user's key names, from one declarative field list.
// A struct opts in with an ADL-found `forEachField(T&, Visit&&)` that calls visit(key, member, checks...)
// once per key, in one place. readOptions then rejects unknown keys, reads each present key by the member's
// C++ type (readValue below), runs its checks, and names every failure "<where>.<key>" as the user wrote it:
// adding an option is one line in the field list.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include "core/enum_names.h"
#include "core/errors.h"
#include "core/option_checks.h"

namespace moonlight::json_options {

using Json = nlohmann::ordered_json;

// As a message quotes a value: 'text', 2.5, NaN, true, null, [1,2], an object.
std::string describe(const Json& value);
std::string formatNumber(double value);  // shortest round-trip form, NaN / Infinity as JS writes them
bool isSafeInteger(double value);        // an integer a JS number holds exactly: |value| ≤ 2^53 − 1

// "<name> is <describe(value)>; expected <what>".
[[noreturn]] void expected(const std::string& name, const Json& value, const std::string& what,
                           ErrorKind kind = ErrorKind::Config);

void readValue(const Json& value, const std::string& name, bool& out);
void readValue(const Json& value, const std::string& name, double& out);
void readValue(const Json& value, const std::string& name, int64_t& out);  // a safe integer (a BigInt: any int64)
void readValue(const Json& value, const std::string& name, size_t& out);   // a non-negative safe integer
void readValue(const Json& value, const std::string& name, std::string& out);
void readValue(const Json& value, const std::string& name, c10::ScalarType& out);  // 'float32', ... (DTypeError)
void readValue(const Json& value, const std::string& name, c10::Device& out);      // 'cpu', 'cuda:1' (DeviceError)
void readValue(const Json& value, const std::string& name, std::optional<c10::Device>& out);  // no default Device

template <typename T>
concept HasFields = requires(T& options) { forEachField(options, [](const char*, auto&, const auto&...) {}); };

// The readers of composite values, declared together so that each finds the others whatever it holds.
template <typename E>
  requires(std::is_enum_v<E> && requires { namesOf(E{}); })
void readValue(const Json& value, const std::string& name, E& out);  // an enum with namesOf: one of its names
template <typename T>
void readValue(const Json& value, const std::string& name, std::optional<T>& out);  // null: unset
template <typename T>
void readValue(const Json& value, const std::string& name, std::vector<T>& out);
template <typename T, size_t N>
void readValue(const Json& value, const std::string& name, std::array<T, N>& out);  // a list of exactly N
template <typename T>
  requires HasFields<T>
void readValue(const Json& value, const std::string& name, T& out);  // a nested options object

template <typename E>
  requires(std::is_enum_v<E> && requires { namesOf(E{}); })
void readValue(const Json& value, const std::string& name, E& out) {
  if (!value.is_string() || !valueNamed(value.get_ref<const std::string&>(), out)) {
    expected(name, value, expectedNames<E>());
  }
}

template <typename T>
void readValue(const Json& value, const std::string& name, std::optional<T>& out) {
  if (value.is_null()) {
    out.reset();
    return;
  }
  T read{};
  readValue(value, name, read);
  out = std::move(read);
}

template <typename T>
void readValue(const Json& value, const std::string& name, std::vector<T>& out) {
  if (!value.is_array()) expected(name, value, "a list");
  out.assign(value.size(), T{});
  for (size_t i = 0; i < value.size(); ++i) readValue(value[i], name + "[" + std::to_string(i) + "]", out[i]);
}

template <typename T, size_t N>
void readValue(const Json& value, const std::string& name, std::array<T, N>& out) {
  if (!value.is_array() || value.size() != N) expected(name, value, "a list of " + std::to_string(N));
  for (size_t i = 0; i < N; ++i) readValue(value[i], name + "[" + std::to_string(i) + "]", out[i]);
}

// ConfigError "<where>.<key> is not an option; expected one of <known>".
void rejectUnknownKeys(const Json& object, const std::string& where, const std::vector<const char*>& known);

// How strictly readOptions reads. Options a user writes are read strictly: every mistake is a ConfigError,
// an unknown key included. Arguments that the TS layer assembles from values it has checked are read as a
// binding call reads its arguments: a mistake is an ArgumentError, null stands for an absent value, and
// keys the field list does not name are left alone.
struct Reading {
  ErrorKind kind = ErrorKind::Config;
  bool nullIsAbsent = false;
  bool unknownKeysAllowed = false;
};
constexpr Reading kUserOptions{};
constexpr Reading kCallArguments{ErrorKind::Argument, true, true};

namespace detail {
template <typename T>
struct IsSequence : std::false_type {};
template <typename T>
struct IsSequence<std::vector<T>> : std::true_type {};
template <typename T, size_t N>
struct IsSequence<std::array<T, N>> : std::true_type {};

template <typename T>
struct IsOptionalOptions : std::false_type {};
template <typename T>
struct IsOptionalOptions<std::optional<T>> : std::bool_constant<HasFields<T>> {};

// A check sees each element of a list and the value of a set optional.
template <typename Check, typename T>
void applyCheck(const Check& check, const T& value, const std::string& name) {
  if constexpr (requires { value.has_value(); }) {
    if (value) applyCheck(check, *value, name);
  } else if constexpr (IsSequence<T>::value) {
    for (size_t i = 0; i < value.size(); ++i) applyCheck(check, value[i], name + "[" + std::to_string(i) + "]");
  } else {
    check(value, name);
  }
}

// Runs `read`, reporting its ConfigErrors as `kind` (other kinds, such as a DTypeError, stay as they are).
template <typename Read>
void reportingAs(ErrorKind kind, Read&& read) {
  if (kind == ErrorKind::Config) return read();
  try {
    read();
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::Config) throw;
    fail(kind, error.what());
  }
}
}  // namespace detail

template <typename T>
  requires HasFields<T>
void readOptions(const Json& object, const std::string& where, T& out, const Reading& reading = kUserOptions);

// One key's value: a nested options object (set or optional) is read as its parent is.
template <typename T>
void readField(const Json& value, const std::string& name, T& out, const Reading& reading) {
  if constexpr (HasFields<T>) {
    readOptions(value, name, out, reading);
  } else if constexpr (detail::IsOptionalOptions<T>::value) {
    if (value.is_null()) {
      out.reset();
    } else {
      readOptions(value, name, out.emplace(), reading);
    }
  } else {
    readValue(value, name, out);
  }
}

// Fills `out` (which holds the defaults) from the JSON object `object`; `where` names it ("options").
template <typename T>
  requires HasFields<T>
void readOptions(const Json& object, const std::string& where, T& out, const Reading& reading) {
  detail::reportingAs(reading.kind, [&] {
    if (reading.nullIsAbsent && object.is_null()) return;
    if (!object.is_object()) expected(where, object, "an object");
    if (!reading.unknownKeysAllowed) {
      std::vector<const char*> known;
      forEachField(out, [&](const char* key, auto&, const auto&...) { known.push_back(key); });
      rejectUnknownKeys(object, where, known);
    }
    forEachField(out, [&](const char* key, auto& member, const auto&... checks) {
      const std::string name = where + "." + key;
      auto found = object.find(key);
      if (found == object.end() || (reading.nullIsAbsent && found->is_null())) {
        if ((std::is_same_v<std::decay_t<decltype(checks)>, Required> || ...)) fail(ErrorKind::Config, name + " is missing");
        return;
      }
      readField(*found, name, member, reading);
      (detail::applyCheck(checks, member, name), ...);
    });
  });
}

template <typename T>
  requires HasFields<T>
void readValue(const Json& value, const std::string& name, T& out) {
  readOptions(value, name, out);
}

// One argument of a binding call (a dimension, a flag): readValue's mistakes are ArgumentErrors.
template <typename T>
T readArgument(const Json& value, const std::string& name) {
  T out{};
  detail::reportingAs(ErrorKind::Argument, [&] { readValue(value, name, out); });
  return out;
}

}  // namespace moonlight::json_options
