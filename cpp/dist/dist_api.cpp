// The process group in the JS API (src/dist/): init / destroy / state, and collectives on copies for tests
// and scripts. Rendezvous and collectives block, so they run off the JS thread.
#include "core/api_tables.h"
#include "dist/collective_copies.h"
#include "dist/process_group.h"

namespace moonlight::dist {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

namespace {

// distInit's options: {rank, worldSize, masterAddr, masterPort, timeoutMs, backend?}.
struct InitOptions {
  ProcessGroupOptions group;
  int64_t rank = 0, worldSize = 1, masterPort = 0, timeoutMs = 0;
};

template <typename Visit>
void forEachField(InitOptions& o, Visit&& field) {
  using json_options::kRequired;
  field("rank", o.rank, kRequired);
  field("worldSize", o.worldSize, kRequired);
  field("masterAddr", o.group.masterAddr, kRequired);
  field("masterPort", o.masterPort, kRequired);
  field("timeoutMs", o.timeoutMs, kRequired);
  field("backend", o.group.backend);
}

Job init(const Arguments& a) {
  InitOptions read = a.options<InitOptions>(0);
  read.group.rank = static_cast<int>(read.rank);
  read.group.worldSize = static_cast<int>(read.worldSize);
  read.group.masterPort = static_cast<int>(read.masterPort);
  read.group.timeout = std::chrono::milliseconds(read.timeoutMs);
  return [options = read.group]() -> Result {
    initProcessGroup(options);
    return {};
  };
}

// {initialized, rank, worldSize, bytesSent, backend (when initialized), ncclCompiled, glooCompiled}
Json state() {
  const bool initialized = processGroupInitialized();
  Json state = {{"initialized", initialized}};
  if (initialized) {
    const std::shared_ptr<ProcessGroup> group = currentProcessGroup();
    state["rank"] = group->rank();
    state["worldSize"] = group->worldSize();
    state["bytesSent"] = group->bytesSent();
    state["backend"] = group->backendNames();
  }
  state["ncclCompiled"] = ncclCompiled();
  state["glooCompiled"] = glooCompiled();
  return state;
}

// distCollective(kind, tensor, op | root): a new tensor with the result; the input is left as it was.
Job collective(const Arguments& a) {
  CollectiveRequest request;
  request.kind = parseCollectiveKind(a.get<std::string>(0));
  if (request.kind == CollectiveKind::Broadcast) {
    request.root = static_cast<int>(a.get<int64_t>(2, "root"));
  } else if (!a.data(2).is_null()) {
    request.op = parseReduceOp(a.get<std::string>(2));
  }
  return [job = collectiveOnCopy(currentProcessGroup(), a.tensor(1), request)]() -> Result { return job(); };
}

}  // namespace

const FunctionTable& distFunctions() {
  static const FunctionTable table = {
      {"distInit", {{"options", Kind::Data}}, nullptr, init},
      {"distDestroy", {}, [](const Arguments&) -> Result {
         destroyProcessGroup();
         return {};
       }},
      {"distState", {}, [](const Arguments&) -> Result { return state(); }},
      {"distCollective", {{"kind", Kind::Data}, {"tensor", Kind::Tensor}, {"op", Kind::Data}}, nullptr, collective},
      {"distBarrier", {}, nullptr, [](const Arguments&) -> Job {
         return [group = currentProcessGroup()]() -> Result {
           group->barrier();
           return {};
         };
       }},
  };
  return table;
}

}  // namespace moonlight::dist
