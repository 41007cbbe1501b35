#include "train/memory_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/json_options.h"
#include "dist/bucketing.h"
#include "dist/zero1_partition.h"
#include "models/common/causal_lm.h"
#include "models/common/kv_cache.h"
#include "models/common/lora.h"
#include "optim/muon.h"
#include "optim/optimizer_options.h"
#include "train/activation_bytes.h"
#include "train/precision.h"

namespace moonlight::train {

namespace {

using json_options::Json;

// The RSS of `node` after it loaded this package, the addon and libtorch and ran one tensor op (so the
// intra-op thread pool exists): what a process holds before any job. Measured by `npm run bench:plan`
// (scripts/bench-plan.js prints it as "runtime RSS": 189 MiB in every case) on Linux x86-64, CPU libtorch.
constexpr int64_t kRuntimeBytes = int64_t{189} * 1024 * 1024;

enum class PlanTask { Generate, Lora, Full };
constexpr EnumNames<PlanTask, 3> namesOf(PlanTask) {
  return {{{"generate", PlanTask::Generate}, {"lora", PlanTask::Lora}, {"full", PlanTask::Full}}};
}

void precisionName(const std::string& value, const std::string& name) {
  if (value != "fp32" && value != "bf16-mixed") {
    fail(ErrorKind::Config, name + " is '" + value + "'; expected 'fp32' or 'bf16-mixed'");
  }
}

constexpr json_options::Range kCount{1, 9007199254740991.0, true, true, "a positive integer"};

struct PlanOptions {
  PlanTask task = PlanTask::Generate;
  optim::OptimizerKind optimizer = optim::OptimizerKind::Muon;
  c10::ScalarType dtype = c10::ScalarType::Float;
  std::string precision = "fp32";
  int64_t worldSize = 1;
  std::optional<int64_t> rank;  // unset: the rank with the most optimizer state
  int64_t batchSize = 1;
  int64_t seqLen = 2048;
  std::optional<int64_t> promptLength;  // generate; unset: seqLen (the whole length prefilled at once)
  int64_t loraRank = 8;
  double loraAlpha = 32;    // src/models/lora.ts's default
  double loraDropout = 0.05;  // src/models/lora.ts's default
  std::vector<std::string> targetModules = {"all-linear"};
  int64_t bucketBytes = dist::kDefaultBucketBytes;
};

template <typename Visit>
void forEachField(PlanOptions& o, Visit&& field) {
  using namespace json_options;
  field("task", o.task, kRequired);
  field("optimizer", o.optimizer);
  field("dtype", o.dtype);
  field("precision", o.precision, precisionName);
  field("worldSize", o.worldSize, kCount);
  field("rank", o.rank, Range{0, 9007199254740991.0, true, true, "an integer ≥ 0"});
  field("batchSize", o.batchSize, kCount);
  field("seqLen", o.seqLen, kCount);
  field("promptLength", o.promptLength, kCount);
  field("loraRank", o.loraRank, kCount);
  field("loraAlpha", o.loraAlpha, kPositive);
  field("loraDropout", o.loraDropout, Range{0, 1, true, false, "a number in [0, 1)"});
  field("targetModules", o.targetModules);
  field("bucketBytes", o.bucketBytes, kCount);
}

// Which keys each task reads; any other key the user set is an error rather than silently ignored.
const std::map<PlanTask, std::set<std::string>>& applicableKeys() {
  static const std::set<std::string> training = {"task", "optimizer", "dtype", "precision", "worldSize", "rank",
                                                 "batchSize", "seqLen", "bucketBytes"};
  static const std::map<PlanTask, std::set<std::string>> keys = {
      {PlanTask::Generate, {"task", "dtype", "batchSize", "seqLen", "promptLength"}},
      {PlanTask::Lora, [] {
         std::set<std::string> lora = training;
         lora.insert({"loraRank", "loraAlpha", "loraDropout", "targetModules"});
         return lora;
       }()},
      {PlanTask::Full, training},
  };
  return keys;
}

PlanOptions readPlanOptions(const Json& json) {
  PlanOptions o;
  json_options::readOptions(json, "options", o);
  const std::set<std::string>& keys = applicableKeys().at(o.task);
  for (const auto& item : json.items()) {
    if (!keys.count(item.key())) {
      fail(ErrorKind::Config, "options." + item.key() + " does not apply to task '" + std::string(nameOf(o.task)) + "'");
    }
  }
  if (o.rank && *o.rank >= o.worldSize) {
    fail(ErrorKind::Config, "options.rank is " + std::to_string(*o.rank) + "; expected a rank below worldSize (" +
                                std::to_string(o.worldSize) + ")");
  }
  if (o.promptLength && *o.promptLength > o.seqLen) {
    fail(ErrorKind::Config, "options.promptLength is longer than options.seqLen (the prompt and its new tokens)");
  }
  if (o.precision == "bf16-mixed" && o.dtype != at::kFloat) {
    fail(ErrorKind::Config, "options.precision 'bf16-mixed' keeps fp32 master weights: options.dtype must be 'float32'");
  }
  return o;
}

int64_t sumBytes(const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  int64_t bytes = 0;
  for (const auto& [name, tensor] : tensors) bytes += static_cast<int64_t>(tensor.nbytes());
  return bytes;
}

int64_t elementBytes(c10::ScalarType dtype) { return static_cast<int64_t>(c10::elementSize(dtype)); }

// Newton–Schulz on `numel` elements of `matrices` matrices of min side `side` (optim/newton_schulz.cpp): the
// cast input, its normalised copy and the next iterate in the NS dtype, and the Gram matrix and polynomial.
int64_t newtonSchulzBytes(int64_t numel, int64_t matrices, int64_t side, int64_t nsBytes) {
  return 3 * numel * nsBytes + 2 * matrices * side * side * nsBytes;
}

int64_t matricesOf(const at::Tensor& param) { return param.numel() / (param.size(-2) * param.size(-1)); }

// One process's optimizer step (optim/muon.cpp's muonStep, optim/adamw.cpp): the largest Muon batch's momentum
// updates (G + μM), their concatenation and its Newton–Schulz; or AdamW's square, root and direction.
int64_t singleProcessStepBytes(const optim::Optimizer& optimizer) {
  std::vector<optim::ParameterState> states = optimizer.parameters();
  const auto& groups = optimizer.groups();
  std::vector<optim::MuonTask> tasks;
  int64_t bytes = 0;
  for (optim::ParameterState& state : states) {
    const optim::ParamGroupConfig& group = groups[state.group];
    if (group.kind == optim::OptimizerKind::Muon) {
      tasks.push_back({&state, &group, state.group, state.param});
    } else {
      bytes = std::max(bytes, 3 * static_cast<int64_t>(state.param.nbytes()));
    }
  }
  for (const auto& batch : optim::muonBatches(tasks)) {
    int64_t numel = 0, matrices = 0;
    const at::Tensor& first = batch.front()->state->param;
    for (const optim::MuonTask* task : batch) {
      numel += task->state->param.numel();
      matrices += matricesOf(task->state->param);
    }
    const int64_t paramBytes = elementBytes(first.scalar_type());
    const int64_t nsBytes = elementBytes(batch.front()->group->muon.newtonSchulz.dtype);
    const int64_t updates = numel * paramBytes * (batch.size() > 1 ? 2 : 1);
    bytes = std::max(bytes, updates + newtonSchulzBytes(numel, matrices, std::min(first.size(-2), first.size(-1)), nsBytes));
  }
  return bytes;
}

// ZeRO-1's step (dist/zero1_muon.cpp) per bucket: this rank's momentum-applied chunk and its NS-dtype copy,
// the all-gathered full bucket, and Newton–Schulz of its largest matrix with the contiguous result; AdamW
// pieces as above; then the parameter all-gather's chunk and full bucket.
int64_t zero1StepBytes(const std::vector<dist::Bucket>& buckets, const optim::Optimizer& optimizer, int worldSize) {
  const auto& params = optimizer.parameters();
  const auto& groups = optimizer.groups();
  int64_t bytes = 0;
  for (const dist::Bucket& bucket : buckets) {
    const int64_t paramBytes = elementBytes(bucket.dtype), chunk = bucket.paddedNumel / worldSize;
    bytes = std::max(bytes, (chunk + bucket.paddedNumel) * paramBytes);  // gatherParameters
    if (bucket.kind == optim::OptimizerKind::AdamW) {
      bytes = std::max(bytes, 3 * chunk * paramBytes);
      continue;
    }
    int64_t largest = 0;
    for (const dist::BucketSlot& slot : bucket.slots) {
      const optim::ParameterState& state = params[slot.param];
      const int64_t nsBytes = elementBytes(groups[state.group].muon.newtonSchulz.dtype);
      const at::Tensor& p = state.param;
      largest = std::max(largest, newtonSchulzBytes(p.numel(), matricesOf(p), std::min(p.size(-2), p.size(-1)), nsBytes) +
                                      p.numel() * nsBytes);
    }
    const int64_t nsBytes = elementBytes(groups[params[bucket.slots.front().param].group].muon.newtonSchulz.dtype);
    bytes = std::max(bytes, chunk * (paramBytes + nsBytes) + bucket.paddedNumel * std::min(nsBytes, paramBytes) + largest);
  }
  return bytes;
}

std::string bytesText(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

}  // namespace

MemoryPlan planMemory(const models::ModelConfig& config, const Json& options) {
  const PlanOptions o = readPlanOptions(options);
  const bool training = o.task != PlanTask::Generate;
  const bool mixed = o.precision == "bf16-mixed";
  models::CausalLM model(config, at::TensorOptions().device(at::kMeta).dtype(o.dtype), /*seed=*/0,
                         models::WeightInit::Uninitialised);
  MemoryPlan plan;
  std::vector<std::string>& notes = plan.assumptions;
  if (o.task == PlanTask::Lora) {
    models::LoraConfig lora;
    lora.rank = o.loraRank;
    lora.alpha = o.loraAlpha;
    lora.dropout = o.loraDropout;
    lora.allLinear = o.targetModules.size() == 1 && o.targetModules.front() == "all-linear";
    if (!lora.allLinear) lora.targetModules = o.targetModules;
    models::attachLora(model.parameters(), lora);
    model.mutableParameters().freeze(".");  // PEFT trains the adapters alone
    notes.push_back("LoRA rank " + std::to_string(o.loraRank) + " on the frozen base; adapters in fp32 on a bf16/fp16 base "
                    "(PEFT's autocast_adapter_dtype), else in the base's dtype");
  }
  const auto stored = model.parameters().storedTensors(/*trainableOnly=*/false);
  plan.parts.weightsBytes = sumBytes(stored);
  for (const auto& [name, tensor] : stored) plan.parameters += tensor.numel();
  notes.push_back("weights in " + std::string(dtypeName(o.dtype)) + (training && o.task == PlanTask::Full ? " (the master weights)" : ""));

  if (training) {
    const auto trainable = model.parameters().storedTensors(/*trainableOnly=*/true);
    std::vector<optim::NamedParameter> params;
    for (const auto& [name, tensor] : trainable) {
      params.push_back({name, tensor});
      plan.trainableParameters += tensor.numel();
    }
    plan.parts.gradientsBytes = sumBytes(trainable);
    // The optimizer itself on the meta tensors, given them as src/optim/parameters.ts does (one group
    // "default" of every parameter): its routing and state allocation, with its default options.
    Json everyParameter = Json::array();
    for (size_t i = 0; i < params.size(); ++i) everyParameter.push_back(i);
    const Json groups = Json::array({{{"name", "default"}, {"parameterIndices", everyParameter}}});
    const auto optimizer = optim::makeOptimizer(nameOf(o.optimizer), params, groups, Json::object(), nullptr);
    for (const optim::ParameterState& state : optimizer->parameters()) {
      if (optimizer->groups()[state.group].kind == optim::OptimizerKind::Muon) plan.muonParameters += state.param.numel();
    }
    const int worldSize = static_cast<int>(o.worldSize);
    const std::vector<dist::Bucket> buckets = dist::makeBuckets(optimizer->parameters(), optimizer->groups(), worldSize, o.bucketBytes);
    for (int rank = 0; rank < worldSize; ++rank) {
      plan.optimizerStateBytesPerRank.push_back(
          worldSize == 1 ? optimizer->stateBytes()
                         : dist::zero1StateBytes(dist::zero1Pieces(buckets, optimizer->parameters(), rank, worldSize)));
    }
    const auto most = std::max_element(plan.optimizerStateBytesPerRank.begin(), plan.optimizerStateBytesPerRank.end());
    plan.rank = o.rank ? static_cast<int>(*o.rank) : static_cast<int>(most - plan.optimizerStateBytesPerRank.begin());
    plan.parts.optimizerStateBytes = plan.optimizerStateBytesPerRank[plan.rank];
    if (worldSize > 1) {
      // ZeRO-1 keeps every rank's averaged gradient chunk of every bucket from the reduce-scatter to the step.
      for (const dist::Bucket& bucket : buckets) plan.parts.gradientsBytes += bucket.paddedNumel / worldSize * elementBytes(bucket.dtype);
      plan.parts.optimizerStepBytes = zero1StepBytes(buckets, *optimizer, worldSize);
      notes.push_back("ZeRO-1 over " + std::to_string(worldSize) + " data-parallel ranks (" + nameOf(o.optimizer) +
                      ", buckets of " + std::to_string(o.bucketBytes) + " bytes): rank " + std::to_string(plan.rank) +
                      "'s state; every rank holds the whole weights and gradients");
    } else {
      plan.parts.optimizerStepBytes = singleProcessStepBytes(*optimizer);
      notes.push_back("one process, " + std::string(nameOf(o.optimizer)) +
                      (o.optimizer == optim::OptimizerKind::Muon ? " (AdamW for the embedding, the LM head and vectors)" : ""));
    }
    TrainActivationShape shape;
    shape.batch = o.batchSize;
    shape.seqLen = o.seqLen;
    shape.computeBytes = mixed ? 2 : elementBytes(o.dtype);
    shape.autocast = mixed;
    shape.weightsTrain = o.task == PlanTask::Full;
    shape.loraDropout = o.task == PlanTask::Lora ? o.loraDropout : 0;
    const TrainActivations activations = trainActivationBytes(model, shape);
    plan.parts.activationsBytes = activations.totalBytes();
    // glibc's malloc serves every block below its mmap threshold (raised as blocks are freed, up to 32 MiB on
    // 64-bit) from its heap and keeps what is freed there for reuse: a step's per-layer and per-expert blocks
    // (all far below 32 MiB at Moonlight's width; the loss head's [tokens, vocab] blocks are above it and go
    // back to the system when freed) leave the heap larger than what is live at the peak. What it keeps is the
    // difference between a step's peak under malloc's defaults and under MALLOC_MMAP_THRESHOLD_=131072 (every
    // block returned): bench:plan measures it on Moonlight-width LoRA + Muon steps, and README.md's "Will it
    // fit?" section gives the dated figures. The allowance is the layers' saved activations once.
    plan.parts.allocatorRetentionBytes = activations.layersBytes;
    if (mixed) plan.parts.autocastCopiesBytes = autocastCopyBytes(model);
    notes.push_back("one micro-batch of " + std::to_string(o.batchSize) + " × " + std::to_string(o.seqLen) +
                    " tokens without padding, " + (mixed ? std::string("bf16 autocast over fp32 weights") : "computing in the weights' dtype") +
                    "; activations at the loss head's backward peak, plus as much again for the layers' blocks glibc's heap keeps");
  } else {
    const int64_t prompt = o.promptLength.value_or(o.seqLen);
    const models::KvCache cache(config, o.batchSize, o.seqLen, at::TensorOptions().device(at::kMeta).dtype(o.dtype));
    plan.parts.kvCacheBytes = cache.allocatedBytes() + o.batchSize * o.seqLen;  // + its bool key mask
    plan.parts.activationsBytes = prefillActivationBytes(model, o.batchSize, prompt, o.seqLen);
    notes.push_back("generation of " + std::to_string(o.batchSize) + " sequence(s) with a KV cache of " +
                    std::to_string(o.seqLen) + " positions; a prompt of " + std::to_string(prompt) + " tokens prefilled at once");
  }
  const MemoryPlanParts& p = plan.parts;
  plan.peakBytes = p.weightsBytes + p.optimizerStateBytes + p.gradientsBytes + p.kvCacheBytes +
                   std::max(p.activationsBytes + p.autocastCopiesBytes + p.allocatorRetentionBytes, p.optimizerStepBytes);
  plan.runtimeBytes = kRuntimeBytes;
  notes.push_back("CPU tensors; peak " + bytesText(plan.peakBytes) + " above the process's RSS before the job, plus " +
                  bytesText(plan.runtimeBytes) + " of runtime (node, the addon and libtorch)");
  return plan;
}

Json memoryPlanJson(const MemoryPlan& plan) {
  const MemoryPlanParts& p = plan.parts;
  Json parts = {{"weights", p.weightsBytes},           {"gradients", p.gradientsBytes},
                {"optimizerState", p.optimizerStateBytes}, {"optimizerStep", p.optimizerStepBytes},
                {"activations", p.activationsBytes},   {"autocastCopies", p.autocastCopiesBytes},
                {"allocatorRetention", p.allocatorRetentionBytes}, {"kvCache", p.kvCacheBytes}};
  Json assumptions = {{"rank", plan.rank},
                      {"optimizerStateBytesPerRank", plan.optimizerStateBytesPerRank},
                      {"parameters", plan.parameters},
                      {"trainableParameters", plan.trainableParameters},
                      {"muonParameters", plan.muonParameters},
                      {"notes", plan.assumptions}};
  return {{"peakBytes", plan.peakBytes}, {"runtimeBytes", plan.runtimeBytes}, {"parts", parts}, {"assumptions", assumptions}};
}

}  // namespace moonlight::train
