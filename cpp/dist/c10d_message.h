// c10d failures carry a C++ stack trace after their first line; that line is what a user running a
// training job needs in a DistributedError.
#pragma once

#include <string>

namespace moonlight::dist {

inline std::string firstLine(const std::string& message) {
  const size_t end = message.find('\n');
  return end == std::string::npos ? message : message.substr(0, end);
}

}  // namespace moonlight::dist
