#include "io/safetensors_writer.h"

#include <algorithm>
#include <set>

#include "core/dtype.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/safetensors_format.h"

namespace moonlight::io {

namespace {

SafetensorsDType checkedDType(const NamedTensor& named, const std::string& path) {
  if (!named.tensor.defined()) fail(ErrorKind::Argument, path + ": tensor \"" + named.name + "\" is undefined");
  std::optional<SafetensorsDType> dtype = safetensorsDTypeOf(named.tensor.scalar_type());
  if (!dtype) {
    fail(ErrorKind::DType, path + ": tensor \"" + named.name + "\" has dtype " + dtypeName(named.tensor.scalar_type()) +
                               ", which safetensors cannot store");
  }
  return *dtype;
}

}  // namespace

uint64_t safetensorsDataBytes(const std::vector<NamedTensor>& tensors) {
  uint64_t total = 0;
  for (const NamedTensor& named : tensors) total += named.tensor.defined() ? named.tensor.nbytes() : 0;
  return total;
}

void writeSafetensors(const std::string& path, const std::vector<NamedTensor>& tensors, const Metadata& metadata) {
  std::set<std::string> names;
  std::vector<std::pair<SafetensorsEntry, const at::Tensor*>> layout;
  for (const NamedTensor& named : tensors) {
    if (named.name == "__metadata__") fail(ErrorKind::Argument, path + ": \"__metadata__\" cannot name a tensor");
    if (!names.insert(named.name).second) fail(ErrorKind::Argument, path + ": two tensors are named \"" + named.name + "\"");
    SafetensorsEntry entry{named.name, checkedDType(named, path), named.tensor.sizes().vec(), 0, 0};
    layout.emplace_back(std::move(entry), &named.tensor);
  }
  std::sort(layout.begin(), layout.end(), [](const auto& a, const auto& b) {
    if (a.first.dtype.layoutRank != b.first.dtype.layoutRank) return a.first.dtype.layoutRank > b.first.dtype.layoutRank;
    return a.first.name < b.first.name;
  });
  uint64_t offset = 0;
  std::vector<SafetensorsEntry> entries;
  for (auto& [entry, tensor] : layout) {
    entry.begin = offset;
    offset += tensor->nbytes();
    entry.end = offset;
    entries.push_back(entry);
  }
  // transformers refuses files whose format is missing or not one it knows; "pt" is torch's.
  Metadata withFormat = metadata;
  const bool hasFormat = std::any_of(metadata.begin(), metadata.end(), [](const auto& kv) { return kv.first == "format"; });
  if (!hasFormat) withFormat.insert(withFormat.begin(), {"format", "pt"});
  const std::string header = buildSafetensorsHeader(entries, withFormat);
  uint8_t prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));

  AtomicFileWriter writer(path);
  writer.write(prefix, sizeof prefix);
  writer.write(header.data(), header.size());
  for (const auto& [entry, tensor] : layout) {
    // One tensor at a time on the host, so a GPU model never needs a second full copy in host memory.
    at::Tensor host = tensor->detach().to(c10::DeviceType::CPU).contiguous();
    if (host.nbytes() > 0) writer.write(host.data_ptr(), host.nbytes());
  }
  writer.commit();
}

}  // namespace moonlight::io
