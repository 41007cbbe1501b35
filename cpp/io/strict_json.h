// JSON parsing for checkpoint metadata (safetensors headers, shard indexes): nlohmann's parser, plus the
// one rule it does not enforce — a key may appear only once per object (last-wins would hide corruption).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace moonlight::io {

// Parses `text`; any syntax error or duplicate key is a CheckpointError that starts with `where`.
nlohmann::ordered_json parseStrictJson(std::string_view text, const std::string& where);

}  // namespace moonlight::io
