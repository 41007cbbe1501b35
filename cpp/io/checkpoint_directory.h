// Publishing a fully written checkpoint folder under its final name in one atomic step, so a crash at
// any moment leaves either the previous checkpoint or the complete new one, never a mix.
#pragma once

#include <string>

namespace moonlight::io {

// `staging` is a complete folder next to `target` (same parent). Its files and itself are fsynced, then
// it takes `target`'s name: by rename when `target` does not exist, by an atomic exchange
// (renameat2 RENAME_EXCHANGE) when it does, after which the old folder is deleted.
void commitCheckpointDirectory(const std::string& staging, const std::string& target);

}  // namespace moonlight::io
