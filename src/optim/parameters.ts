/**
 * How parameters reach an optimizer: named (so routing can tell embeddings and the LM head apart, and the
 * state dict can name each buffer), optionally split into param groups with their own optimizer, lr and
 * weight decay.
 */
import { ArgumentError, ConfigError } from '../errors';
import type { NativeGroupRequest, NativeParameter, OptimizerName } from '../native';
import { operandHandle, Tensor } from '../tensor/tensor';

/** `{name: tensor}`, a Map, `[name, tensor]` pairs, or plain Tensors (named `param.<i>`). */
export type NamedParameters =
  | Record<string, Tensor>
  | ReadonlyMap<string, Tensor>
  | Iterable<readonly [string, Tensor]>
  | readonly Tensor[];

/** A param group: its parameters take its optimizer / lr / weightDecay instead of the defaults. */
export interface ParamGroup {
  name?: string;
  params: NamedParameters;
  /** Unset: Muon for matrices except embeddings and the LM head, AdamW for the rest. */
  optimizer?: OptimizerName;
  lr?: number;
  weightDecay?: number;
}

function isParamGroupList(value: unknown): value is readonly ParamGroup[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((entry) => typeof entry === 'object' && entry !== null && !(entry instanceof Tensor) && 'params' in entry)
  );
}

function namedEntries(params: NamedParameters, where: string, unnamedOffset: number): [string, unknown][] {
  if (params instanceof Map) return [...params.entries()];
  if (Array.isArray(params)) {
    return params.map((entry: unknown, i): [string, unknown] => {
      if (entry instanceof Tensor) return [`param.${unnamedOffset + i}`, entry];
      if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string') return [entry[0], entry[1]];
      throw new ArgumentError(`${where}[${i}] must be a Tensor or a [name, Tensor] pair`);
    });
  }
  if (typeof params === 'object' && params !== null && Symbol.iterator in params) {
    return namedEntries([...(params as Iterable<readonly [string, Tensor]>)], where, unnamedOffset);
  }
  if (typeof params === 'object' && params !== null) return Object.entries(params);
  throw new ArgumentError(`${where} must be named parameters ({name: Tensor}, a Map, pairs) or an array of Tensors`);
}

/** Flattens parameters and groups into what the native OptimizerHandle takes. */
export function collectParameters(
  input: NamedParameters | readonly ParamGroup[],
  argumentName: string,
): { params: NativeParameter[]; groups: NativeGroupRequest[] } {
  if (input === null || input === undefined) throw new ArgumentError(`${argumentName} must be given`);
  const groups: ParamGroup[] = isParamGroupList(input) ? [...input] : [{ name: 'default', params: input as NamedParameters }];
  const params: NativeParameter[] = [];
  const requests: NativeGroupRequest[] = [];
  groups.forEach((group, g) => {
    const where = isParamGroupList(input) ? `${argumentName}[${g}]` : argumentName;
    // optimizer / lr / weightDecay pass through: the native core checks them, naming params[g].<key>.
    const request: NativeGroupRequest = {
      name: group.name ?? `group${g}`,
      parameterIndices: [],
      optimizer: group.optimizer,
      lr: group.lr,
      weightDecay: group.weightDecay,
    };
    const paramsWhere = isParamGroupList(input) ? `${where}.params` : where;
    for (const [name, tensor] of namedEntries(group.params, paramsWhere, params.length)) {
      request.parameterIndices.push(params.length);
      params.push({ name, tensor: operandHandle(tensor, `${paramsWhere}['${name}']`) });
    }
    requests.push(request);
  });
  if (params.length === 0) throw new ConfigError(`${argumentName} holds no parameters`);
  return { params, groups: requests };
}
