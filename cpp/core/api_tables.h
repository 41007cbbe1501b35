// Every table of the JS API (core/api_function.h), each defined beside the code it calls: the module-level
// functions, TensorHandle's methods, and the classes of handles on core objects. The bindings register them.
#pragma once

#include "core/api_function.h"

namespace moonlight {

namespace data {
class TokenCache;
}
namespace io {
class SafetensorsFile;
}
namespace optim {
class Optimizer;
}

namespace tensor {
const api::FunctionTable& tensorOps();        // tensor/tensor_ops_api.cpp
const api::FunctionTable& tensorFactories();  // tensor/tensor_factories_api.cpp
// TensorHandle's methods (tensor/tensor_methods_api.cpp): parameter 0 is the tensor itself.
const api::FunctionTable& tensorMethods();
}  // namespace tensor

namespace io {
const api::FunctionTable& checkpointFunctions();                 // io/checkpoint_api.cpp
const api::HandleClass<SafetensorsFile>& safetensorsFileClass();  // made by safetensorsOpen
}  // namespace io

namespace dist {
const api::FunctionTable& distFunctions();  // dist/dist_api.cpp
}

namespace analysis {
const api::FunctionTable& analysisFunctions();  // analysis/analysis_api.cpp
}

namespace train {
const api::HandleClass<optim::Optimizer>& optimizerClass();  // train/optimizer_api.cpp
}

namespace data {
const api::HandleClass<TokenCache>& tokenCacheClass();  // data/token_cache_api.cpp
}

}  // namespace moonlight
