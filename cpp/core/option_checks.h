// Checks a field list (core/json_options.h) attaches to an option. A Range is the valid interval of a
// numeric option, written once and used by every check of it (the options parser names the user's key, a
// config validator its own field): a ConfigError "<name> is <value>; expected <what>".
#pragma once

#include <limits>
#include <string>

namespace moonlight::json_options {

struct Range {
  double min;
  double max;
  bool minIncluded;
  bool maxIncluded;
  const char* what;  // "a number in [0, 1)"

  // NaN is never inside.
  bool contains(double value) const {
    return (minIncluded ? value >= min : value > min) && (maxIncluded ? value <= max : value < max);
  }
  void operator()(double value, const std::string& name) const;
};

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr Range kFinite{-kInfinity, kInfinity, false, false, "a finite number"};
constexpr Range kNonNegative{0, kInfinity, true, false, "a finite number ≥ 0"};
constexpr Range kPositive{0, kInfinity, false, false, "a positive finite number"};
constexpr Range kUnitInterval{0, 1, true, false, "a number in [0, 1)"};  // momenta, betas

// Makes the option's key mandatory: its absence is a ConfigError "<where>.<key> is missing".
struct Required {
  template <typename T>
  void operator()(const T&, const std::string&) const {}
};
constexpr Required kRequired{};

}  // namespace moonlight::json_options
