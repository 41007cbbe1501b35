// The safetensors format: dtype names, and the header that maps tensor names to byte ranges.
// Validation follows the format's rules strictly (see README "Checkpoints"): a header that passes here
// describes exactly the bytes of the file, so readers can trust every offset.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/ScalarType.h>

namespace moonlight::io {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit

struct SafetensorsDType {
  const char* name;        // as written in headers: "F32", "BF16", ...
  c10::ScalarType scalarType;
  uint64_t elementBytes;
  // Position in the reference implementation's Dtype enum (BOOL … U8, I8, F8_E5M2, F8_E4M3 … I16, U16,
  // F16, BF16, I32, U32, F32, C64, F64, I64): writers lay tensors out by descending rank, then name.
  int layoutRank;
};

// nullopt for names outside the supported set (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL F8_E4M3 F8_E5M2).
std::optional<SafetensorsDType> safetensorsDTypeByName(const std::string& name);
std::optional<SafetensorsDType> safetensorsDTypeOf(c10::ScalarType type);

struct SafetensorsEntry {
  std::string name;
  SafetensorsDType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // relative to the start of the data section
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // in file order (ascending offsets)
  std::vector<std::pair<std::string, std::string>> metadata;
  uint64_t headerBytes = 0;  // N: the JSON length after the 8-byte prefix
  uint64_t dataStart() const { return 8 + headerBytes; }
};

// Validates the 8-byte length prefix against the file size; returns N. `prefix` is the first 8 bytes.
uint64_t checkHeaderLength(const uint8_t* prefix, uint64_t fileBytes, const std::string& path);

// Parses and validates the header JSON of a file of `fileBytes` bytes whose header is N = json.size().
SafetensorsHeader parseSafetensorsHeader(std::string_view json, uint64_t fileBytes, const std::string& path);

// The header JSON for entries already laid out (offsets set), __metadata__ first, padded with spaces so
// that 8 + its length is a multiple of 8 (the data section then starts 8-byte aligned).
std::string buildSafetensorsHeader(const std::vector<SafetensorsEntry>& entries,
                                   const std::vector<std::pair<std::string, std::string>>& metadata);

}  // namespace moonlight::io
