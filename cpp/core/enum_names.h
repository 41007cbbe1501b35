// The names an enum's values have in the user's API ('match-rms-adamw', 'skip', ...), listed once per enum
// next to the enum: an enum opts in with an ADL-found `constexpr auto namesOf(E)` returning EnumNames<E, N>.
// Parsers map names to values with it, messages list the allowed names with it, outputs name values with it.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace moonlight {

template <typename E>
struct NamedValue {
  const char* name;
  E value;
};

template <typename E, size_t N>
using EnumNames = std::array<NamedValue<E>, N>;

// The user's name of `value` (every value of an opted-in enum has one).
template <typename E>
const char* nameOf(E value) {
  for (const auto& entry : namesOf(E{})) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// The value named `name`; false when no value has that name.
template <typename E>
bool valueNamed(std::string_view name, E& value) {
  for (const auto& entry : namesOf(E{})) {
    if (name == entry.name) {
      value = entry.value;
      return true;
    }
  }
  return false;
}

// "'a' or 'b'", "'a', 'b' or 'c'": the allowed names, for an error message's "expected ...".
template <typename E>
std::string expectedNames() {
  const auto names = namesOf(E{});
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
    text += std::string("'") + names[i].name + "'";
  }
  return text;
}

}  // namespace moonlight
