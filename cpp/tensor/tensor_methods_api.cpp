// The methods of a tensor handle that read or change the tensor (its metadata, autograd state, a scalar
// value). Parameter 0 is the tensor itself; the handle's own lifetime (dispose) and its host copies stay
// with the bindings.
#include "core/api_tables.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"

namespace moonlight::tensor {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

namespace {

const Parameter kSelf{"tensor", Kind::Tensor};

Result meta(const Arguments& a) {
  const at::Tensor& tensor = a.tensor(0);
  return Json{{"shape", tensor.sizes().vec()}, {"dtype", dtypeName(tensor.scalar_type())}, {"device", deviceName(tensor.device())}};
}

Result setRequiresGrad(const Arguments& a) {
  const bool flag = a.get<bool>(1);
  at::Tensor tensor = a.tensor(0);
  if (flag && !c10::isFloatingType(tensor.scalar_type())) {
    fail(ErrorKind::DType, "requiresGrad needs a floating dtype, got " + dtypeName(tensor.scalar_type()));
  }
  tensor.set_requires_grad(flag);
  return {};
}

// setGrad(grad | null): null drops the gradient.
Result setGrad(const Arguments& a) {
  at::Tensor tensor = a.tensor(0);
  const at::Tensor& grad = a.tensor(1);
  if (grad.defined() && !grad.sizes().equals(tensor.sizes())) {
    fail(ErrorKind::Shape,
         "grad has shape " + c10::str(grad.sizes()) + " but the tensor has shape " + c10::str(tensor.sizes()));
  }
  if (grad.defined() && (grad.scalar_type() != tensor.scalar_type() || grad.device() != tensor.device())) {
    fail(ErrorKind::DType, "grad must have the tensor's dtype and device (" + dtypeName(tensor.scalar_type()) + " on " +
                               deviceName(tensor.device()) + ")");
  }
  tensor.mutable_grad() = grad.defined() ? grad.detach() : at::Tensor();
  return {};
}

// backward(gradient?, retainGraph?)
Result backward(const Arguments& a) {
  a.tensor(0).backward(a.tensor(1), a.get<std::optional<bool>>(2), /*create_graph=*/false);
  return {};
}

Result item(const Arguments& a) {
  const at::Tensor& tensor = a.tensor(0);
  if (tensor.numel() != 1) {
    fail(ErrorKind::Shape, "item() needs a tensor with exactly one element, got shape " + c10::str(tensor.sizes()));
  }
  if (tensor.scalar_type() == c10::ScalarType::Bool) return Json(tensor.item<bool>());
  return Json(tensor.item<double>());
}

}  // namespace

const FunctionTable& tensorMethods() {
  static const FunctionTable methods = {
      {"meta", {kSelf}, meta},
      {"numel", {kSelf}, [](const Arguments& a) -> Result { return Json(a.tensor(0).numel()); }},
      {"requiresGrad", {kSelf}, [](const Arguments& a) -> Result { return Json(a.tensor(0).requires_grad()); }},
      {"setRequiresGrad", {kSelf, {"requiresGrad", Kind::Data}}, setRequiresGrad},
      {"grad", {kSelf}, [](const Arguments& a) -> Result { return a.tensor(0).grad(); }},
      {"setGrad", {kSelf, {"grad", Kind::OptionalTensor}}, setGrad},
      {"backward", {kSelf, {"gradient", Kind::OptionalTensor}, {"retainGraph", Kind::Data}}, backward},
      {"item", {kSelf}, item},
  };
  return methods;
}

}  // namespace moonlight::tensor
