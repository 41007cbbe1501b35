#include "io/safetensors_format.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"
#include "io/strict_json.h"

namespace moonlight::io {

namespace {

constexpr SafetensorsDType kDTypes[] = {
    {"BOOL", c10::ScalarType::Bool, 1, 0},          {"U8", c10::ScalarType::Byte, 1, 4},
    {"I8", c10::ScalarType::Char, 1, 5},            {"F8_E5M2", c10::ScalarType::Float8_e5m2, 1, 6},
    {"F8_E4M3", c10::ScalarType::Float8_e4m3fn, 1, 7}, {"I16", c10::ScalarType::Short, 2, 11},
    {"F16", c10::ScalarType::Half, 2, 13},          {"BF16", c10::ScalarType::BFloat16, 2, 14},
    {"I32", c10::ScalarType::Int, 4, 15},           {"F32", c10::ScalarType::Float, 4, 17},
    {"F64", c10::ScalarType::Double, 8, 19},        {"I64", c10::ScalarType::Long, 8, 20},
};

[[noreturn]] void corrupt(const std::string& path, const std::string& problem) {
  fail(ErrorKind::Checkpoint, path + ": " + problem);
}

uint64_t nonNegativeInteger(const nlohmann::ordered_json& value, const std::string& path, const std::string& what) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) corrupt(path, what + " is negative (" + value.dump() + ")");
  corrupt(path, what + " must be a non-negative integer, got " + value.dump());
}

SafetensorsEntry parseEntry(const std::string& name, const nlohmann::ordered_json& info, const std::string& path) {
  const std::string where = "tensor \"" + name + "\"";
  if (!info.is_object()) corrupt(path, where + " must be an object with dtype, shape and data_offsets");
  for (const auto& [key, _] : info.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") corrupt(path, where + " has an unknown field \"" + key + "\"");
  }
  if (!info.contains("dtype") || !info["dtype"].is_string()) corrupt(path, where + " has no string dtype");
  if (!info.contains("shape") || !info["shape"].is_array()) corrupt(path, where + " has no shape array");
  if (!info.contains("data_offsets") || !info["data_offsets"].is_array() || info["data_offsets"].size() != 2) {
    corrupt(path, where + " needs data_offsets [begin, end]");
  }
  const std::string dtypeName = info["dtype"].get<std::string>();
  std::optional<SafetensorsDType> dtype = safetensorsDTypeByName(dtypeName);
  if (!dtype) corrupt(path, where + " has unknown or unsupported dtype \"" + dtypeName + "\"");

  SafetensorsEntry entry{name, *dtype, {}, 0, 0};
  uint64_t expectedBytes = dtype->elementBytes;
  for (size_t i = 0; i < info["shape"].size(); ++i) {
    uint64_t dim = nonNegativeInteger(info["shape"][i], path, where + " shape[" + std::to_string(i) + "]");
    if (dim > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(expectedBytes, dim, &expectedBytes)) {
      corrupt(path, where + " has a shape too large to address");
    }
    entry.shape.push_back(static_cast<int64_t>(dim));
  }
  entry.begin = nonNegativeInteger(info["data_offsets"][0], path, where + " data_offsets[0]");
  entry.end = nonNegativeInteger(info["data_offsets"][1], path, where + " data_offsets[1]");
  if (entry.end < entry.begin) corrupt(path, where + " has data_offsets that end before they begin");
  if (entry.end - entry.begin != expectedBytes) {
    corrupt(path, where + " spans " + std::to_string(entry.end - entry.begin) + " bytes but its dtype " + dtypeName +
                      " and shape need " + std::to_string(expectedBytes));
  }
  return entry;
}

}  // namespace

std::optional<SafetensorsDType> safetensorsDTypeByName(const std::string& name) {
  for (const auto& dtype : kDTypes) {
    if (name == dtype.name) return dtype;
  }
  return std::nullopt;
}

std::optional<SafetensorsDType> safetensorsDTypeOf(c10::ScalarType type) {
  for (const auto& dtype : kDTypes) {
    if (type == dtype.scalarType) return dtype;
  }
  return std::nullopt;
}

uint64_t checkHeaderLength(const uint8_t* prefix, uint64_t fileBytes, const std::string& path) {
  if (fileBytes < 8) corrupt(path, "file is " + std::to_string(fileBytes) + " bytes, too short for a safetensors header");
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i) headerBytes = (headerBytes << 8) | prefix[i];  // little-endian u64
  if (headerBytes == 0) corrupt(path, "header length is 0");
  if (headerBytes > kMaxHeaderBytes) {
    corrupt(path, "header length " + std::to_string(headerBytes) + " exceeds the limit of " +
                      std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (headerBytes > fileBytes - 8) {
    corrupt(path, "header length " + std::to_string(headerBytes) + " runs past the end of the file (" +
                      std::to_string(fileBytes) + " bytes)");
  }
  return headerBytes;
}

SafetensorsHeader parseSafetensorsHeader(std::string_view json, uint64_t fileBytes, const std::string& path) {
  if (json.empty() || json.front() != '{') corrupt(path, "header does not start with '{'");
  nlohmann::ordered_json parsed = parseStrictJson(json, path + ": header");
  if (!parsed.is_object()) corrupt(path, "header is not a JSON object");

  SafetensorsHeader header;
  header.headerBytes = json.size();
  for (const auto& [name, info] : parsed.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) corrupt(path, "__metadata__ must be an object of strings");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) corrupt(path, "__metadata__[\"" + key + "\"] is not a string (" + value.dump() + ")");
        header.metadata.emplace_back(key, value.get<std::string>());
      }
      continue;
    }
    header.entries.push_back(parseEntry(name, info, path));
  }

  // The byte buffer must be covered exactly: offsets sorted, contiguous from 0, ending at the file's end.
  std::stable_sort(header.entries.begin(), header.entries.end(),
                   [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  uint64_t expectedBegin = 0;
  for (const SafetensorsEntry& entry : header.entries) {
    if (entry.begin < expectedBegin) {
      corrupt(path, "tensor \"" + entry.name + "\" overlaps the tensor before it (begins at " +
                        std::to_string(entry.begin) + ", previous ends at " + std::to_string(expectedBegin) + ")");
    }
    if (entry.begin > expectedBegin) {
      corrupt(path, "there is a hole of " + std::to_string(entry.begin - expectedBegin) + " bytes before tensor \"" +
                        entry.name + "\"");
    }
    expectedBegin = entry.end;
  }
  const uint64_t dataBytes = fileBytes - header.dataStart();
  if (expectedBegin != dataBytes) {
    corrupt(path, "the tensors cover " + std::to_string(expectedBegin) + " bytes of data but the file holds " +
                      std::to_string(dataBytes) + (expectedBegin > dataBytes ? " (truncated file?)" : " (trailing bytes)"));
  }
  return header;
}

std::string buildSafetensorsHeader(const std::vector<SafetensorsEntry>& entries,
                                   const std::vector<std::pair<std::string, std::string>>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = meta;
  }
  for (const SafetensorsEntry& entry : entries) {
    header[entry.name] = {{"dtype", entry.dtype.name}, {"shape", entry.shape}, {"data_offsets", {entry.begin, entry.end}}};
  }
  std::string json = header.dump();
  const size_t padding = (8 - (8 + json.size()) % 8) % 8;
  json.append(padding, ' ');
  return json;
}

}  // namespace moonlight::io
