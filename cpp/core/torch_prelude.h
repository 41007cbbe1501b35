// Precompiled for every target: the libtorch headers the core and the bindings use. Parsing these costs
// tens of seconds per translation unit on two cores, so they are parsed once per target instead.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>
