// Weight analysis in the JS API: SVD entropy of a tensor's matrices (off the JS thread: SVDs of big matrices
// take long) and the matrix type of a parameter name (the grouping the step diagnostics use too).
#include "analysis/matrix_type.h"
#include "analysis/svd_entropy.h"
#include "core/api_tables.h"

namespace moonlight::analysis {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

const FunctionTable& analysisFunctions() {
  static const FunctionTable table = {
      {"svdEntropy", {{"weights", Kind::Tensor}}, nullptr, [](const Arguments& a) -> Job {
         return [weights = a.tensor(0)]() -> Result { return Json(svdEntropy(weights)); };
       }},
      {"matrixType", {{"name", Kind::Data}}, [](const Arguments& a) -> Result {
         return Json(matrixType(a.get<std::string>(0)));
       }},
  };
  return table;
}

}  // namespace moonlight::analysis
