#include "io/strict_json.h"

#include <set>
#include <vector>

#include "core/errors.h"

namespace moonlight::io {

nlohmann::ordered_json parseStrictJson(std::string_view text, const std::string& where) {
  std::vector<std::set<std::string>> keysPerOpenObject;
  std::string duplicate;
  auto rejectDuplicates = [&](int /*depth*/, nlohmann::ordered_json::parse_event_t event,
                              nlohmann::ordered_json& parsed) {
    using Event = nlohmann::ordered_json::parse_event_t;
    if (event == Event::object_start) {
      keysPerOpenObject.emplace_back();
    } else if (event == Event::object_end) {
      keysPerOpenObject.pop_back();
    } else if (event == Event::key && !keysPerOpenObject.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keysPerOpenObject.back().insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  nlohmann::ordered_json result;
  try {
    result = nlohmann::ordered_json::parse(text.begin(), text.end(), rejectDuplicates);
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorKind::Checkpoint, where + ": invalid JSON (" + error.what() + ")");
  }
  if (!duplicate.empty()) fail(ErrorKind::Checkpoint, where + ": the key \"" + duplicate + "\" appears twice");
  return result;
}

}  // namespace moonlight::io
