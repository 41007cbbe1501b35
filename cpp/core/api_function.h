// The plain functions of the JS API (add, zeros, safetensorsLoad, distInit, …) as tables the core owns: each
// entry names its parameters and their kinds, the bindings hand over the arguments by position (tensors
// unwrapped from their handles, everything else as JSON), and the entry reads, checks and computes. The
// bindings are then one generic caller for every entry of every table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/json_options.h"

namespace moonlight::api {

using json_options::Json;
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

enum class ArgumentKind {
  Tensor,
  OptionalTensor,  // a tensor, or null / undefined
  TensorOrNumber,  // a binary op's second operand
  TensorList,
  NamedTensors,   // [[name, Tensor], ...]
  TensorEntries,  // [{name, tensor}, ...]
  TensorsByName,  // {name: Tensor, ...}
  Integers,       // an array of integers or an Int32Array, Uint32Array, Float64Array, BigInt64Array (as data)
  HostBytes,      // a TypedArray's bytes, read during the call only
  Data,           // anything else: numbers, strings, lists, options objects
};
using Kind = ArgumentKind;  // as the tables write it

struct Parameter {
  const char* name;  // as error messages name the argument
  ArgumentKind kind;
};

// One argument as the bindings pass it, in the member its parameter's kind names (`data` also holds the
// number of a TensorOrNumber that is no tensor, and the integers of Integers).
struct Argument {
  at::Tensor tensor;
  std::vector<at::Tensor> tensors;
  NamedTensors namedTensors;  // NamedTensors, TensorEntries and TensorsByName
  std::span<const uint8_t> bytes;
  Json data;
  bool given = true;  // false for null / undefined
};

// The arguments of one call, read by position; a mistake is an ArgumentError naming the parameter.
class Arguments {
 public:
  Arguments(const std::vector<Parameter>& parameters, std::vector<Argument> values)
      : parameters_(parameters), values_(std::move(values)) {}

  const at::Tensor& tensor(size_t i) const { return values_.at(i).tensor; }  // undefined for a null one
  bool isTensor(size_t i) const { return values_.at(i).tensor.defined(); }
  const std::vector<at::Tensor>& tensors(size_t i) const { return values_.at(i).tensors; }
  const NamedTensors& namedTensors(size_t i) const { return values_.at(i).namedTensors; }
  std::span<const uint8_t> bytes(size_t i) const { return values_.at(i).bytes; }
  const Json& data(size_t i) const { return values_.at(i).data; }
  bool given(size_t i) const { return values_.at(i).given; }

  // A data argument read as T (json_options::readValue; an optional<T> is unset by null / undefined),
  // named as its parameter or, where one position holds different things, as `name`.
  template <typename T>
  T get(size_t i, const char* name = nullptr) const {
    return json_options::readArgument<T>(data(i), name != nullptr ? name : parameters_.at(i).name);
  }

  // An options object (a struct with a field list) read over `defaults`.
  template <typename T>
  T options(size_t i, T defaults = T{}) const {
    json_options::readOptions(data(i), parameters_.at(i).name, defaults, json_options::kCallArguments);
    return defaults;
  }

  const char* name(size_t i) const { return parameters_.at(i).name; }

 private:
  const std::vector<Parameter>& parameters_;
  std::vector<Argument> values_;
};

// {name: Tensor, ...} for JS, in order.
struct TensorsByName {
  NamedTensors tensors;
};

// What a call returns to JS: nothing (undefined), a tensor (null when undefined), tensors (an array),
// named tensors ([[name, Tensor], ...] or an object) or data.
using Result = std::variant<std::monostate, at::Tensor, std::vector<at::Tensor>, NamedTensors, TensorsByName, Json>;
using Job = std::function<Result()>;

struct Function {
  const char* name;
  std::vector<Parameter> parameters;
  // Computes at once, on the JS thread.
  std::function<Result(const Arguments&)> run;
  // Set instead of `run` for the calls that return a Promise: reads and checks the arguments at once and
  // returns the work, which runs off the JS thread.
  std::function<Job(const Arguments&)> start;
};

using FunctionTable = std::vector<Function>;

// A method of a JS handle on a core object of type Self (an optimizer, a token cache, an open file).
template <typename Self>
struct Method {
  const char* name;
  std::vector<Parameter> parameters;
  std::function<Result(Self&, const Arguments&)> run;
  // Instead of `run`, for a Promise: the job holds its own reference to the object, so releasing the
  // handle meanwhile frees nothing the job reads.
  std::function<Job(std::shared_ptr<Self>, const Arguments&)> start;
};

// A JS class owning one core object: built by `construct` from the constructor's arguments (unset: the
// objects come from a function of the API instead), with `methods`, and the method `release` that drops
// the object at once rather than at garbage collection.
template <typename Self>
struct HandleClass {
  const char* name;
  const char* release;          // "dispose", "close"
  const char* releasedMessage;  // the DisposedError of a call after release
  const char* expected;         // what an argument that must be such a handle is called in an ArgumentError
  std::vector<Parameter> constructorParameters;
  std::function<std::shared_ptr<Self>(const Arguments&)> construct;
  std::vector<Method<Self>> methods;
};

}  // namespace moonlight::api
