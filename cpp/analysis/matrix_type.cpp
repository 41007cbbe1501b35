#include "analysis/matrix_type.h"

#include <cctype>
#include <sstream>
#include <vector>

namespace moonlight::analysis {

namespace {

bool isNumber(const std::string& part) {
  if (part.empty()) return false;
  for (char c : part) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool startsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

std::string matrixType(const std::string& parameterName) {
  std::vector<std::string> parts;
  std::stringstream stream(parameterName);
  for (std::string part; std::getline(stream, part, '.');) {
    if (!isNumber(part)) parts.push_back(part);
  }
  std::string suffix;
  if (!parts.empty() && (parts.back() == "weight" || parts.back() == "bias")) {
    if (parts.back() == "bias") suffix = ".bias";
    parts.pop_back();
  }
  // Drop the model prefix and the per-layer container ("model", "layers").
  std::vector<std::string> kept;
  for (const std::string& part : parts) {
    if (part != "model" && part != "layers") kept.push_back(part);
  }
  if (kept.empty()) return parameterName;
  std::string joined;
  for (const std::string& part : kept) joined += (joined.empty() ? "" : ".") + part;
  const std::string& last = kept.back();
  if (last.find("norm") != std::string::npos) return "norms" + suffix;
  if (startsWith(joined, "self_attn.")) return joined.substr(10) + suffix;
  if (joined == "mlp.gate") return "router" + suffix;
  if (startsWith(joined, "mlp.experts.") || startsWith(joined, "mlp.shared_experts.")) return joined.substr(4) + suffix;
  return joined + suffix;
}

}  // namespace moonlight::analysis
