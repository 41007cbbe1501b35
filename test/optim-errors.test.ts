/**
 * Every check of the optimizers is a typed JS error naming what is wrong, and a rejected step leaves the
 * parameters and the optimizer state exactly as they were.
 */
import {
  AdamW,
  ArgumentError,
  CheckpointError,
  ConfigError,
  DTypeError,
  manualSeed,
  Muon,
  randn,
  ShapeError,
  Tensor,
  tensor,
  zeros,
} from '../src';
import { DisposedError } from '../src/errors';

function model(): Record<string, Tensor> {
  manualSeed(5);
  return { 'layers.0.w': randn([8, 16]), 'layers.1.w': randn([16, 8]), 'norm.weight': randn([16]) };
}

function snapshot(values: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(values).map(([n, t]) => [n, t.clone()]));
}

function expectUnchanged(before: Record<string, Tensor>, after: Record<string, Tensor>): void {
  for (const name of Object.keys(before)) expect([name, after[name].equal(before[name])]).toEqual([name, true]);
}

function giveGrads(params: Record<string, Tensor>): void {
  for (const t of Object.values(params)) t.grad = randn([...t.shape]);
}

describe('option checks', () => {
  const params = model();
  test.each([
    [{ lr: -1 }, /lr is -1/],
    [{ momentum: 1 }, /momentum is 1; expected a number in \[0, 1\)/],
    [{ momentum: -0.1 }, /momentum/],
    [{ nsSteps: 0 }, /nsSteps is 0/],
    [{ nsSteps: 2.5 }, /nsSteps is 2.5; expected an integer/],
    [{ nsCoefficients: 'newton' as never }, /nsCoefficients is 'newton'/],
    [{ nsCoefficients: [[1, 2]] as never }, /nsCoefficients\[0\] must be a triple/],
    [{ nsCoefficients: [] as never }, /nsCoefficients is empty/],
    [{ nsCoefficients: [1, 2, 3] as never }, /nsCoefficients\[0\] must be a triple/],
    [{ updateScale: 'spectral' as never }, /updateScale is 'spectral'/],
    [{ weightDecay: Number.NaN }, /weightDecay/],
    [{ adamwBetas: [0.9, 1] as [number, number] }, /options\.adamwBetas\[1\] is 1; expected a number in \[0, 1\)/],
    [{ adamwBetas: [0.9] as never }, /options\.adamwBetas is \[0\.9\]; expected a list of 2/],
    [{ adamwEpsPlacement: 'middle' as never }, /options\.adamwEpsPlacement is 'middle'; expected 'torch' or 'moonlight'/],
    [{ lr: '0.1' as never }, /options\.lr is '0\.1'; expected a number/],
    [{ nesterov: 1 as never }, /options\.nesterov is 1; expected true or false/],
    [{ adamwNamePatterns: ['embed', 3] as never }, /options\.adamwNamePatterns\[1\] is 3; expected a string/],
    [{ distributed: { mode: 'zero1', bucket: 1 } as never }, /options\.distributed\.bucket is not an option; expected one of mode, bucketBytes/],
    [{ distributed: { bucketBytes: 1024 } as never }, /options\.distributed\.mode is missing/],
    [{ distributed: { mode: 'zero1', bucketBytes: 0 } } as never, /options\.distributed\.bucketBytes is 0; expected a positive integer/],
    [{ nonFiniteGrads: 'ignore' as never }, /nonFiniteGrads is 'ignore'/],
    [{ learningRate: 1 } as never, /learningRate is not an option/],
  ])('Muon %j → ConfigError', (options, message) => {
    expect(() => new Muon(params, options)).toThrow(ConfigError);
    expect(() => new Muon(params, options)).toThrow(message);
  });

  test("nsDtype 'int64' → DTypeError", () => {
    expect(() => new Muon(params, { nsDtype: 'int64' as never })).toThrow(DTypeError);
  });

  test('AdamW betas and eps are checked', () => {
    expect(() => new AdamW(params, { betas: [1.5, 0.9] })).toThrow(/betas\[0\] is 1.5/);
    expect(() => new AdamW(params, { eps: 0 })).toThrow(ConfigError);
    expect(() => new AdamW(params, { lr: -1e-3 })).toThrow(ConfigError);
    expect(() => new AdamW(params, { nsSteps: 5 } as never)).toThrow(/options\.nsSteps is not an option; expected one of lr, weightDecay, betas/);
    expect(() => new AdamW(params, null as never)).toThrow(/options is null; expected an object/);
    expect(() => new Muon([{ params: { 'layers.0.w': params['layers.0.w'] }, lr: -1 }])).toThrow(/params\[0\]\.lr is -1/);
    expect(() => new Muon([{ params: { 'layers.0.w': params['layers.0.w'] }, optimizer: 'sgd' as never }])).toThrow(
      /params\[0\]\.optimizer is 'sgd'; expected 'muon' or 'adamw'/,
    );
  });

  test('Muon asked for a vector, a parameter in two groups, duplicate names, shared memory → ConfigError', () => {
    const p = model();
    expect(() => new Muon([{ params: { 'norm.weight': p['norm.weight'] }, optimizer: 'muon' }])).toThrow(/'norm.weight'.*needs a matrix/);
    expect(() => new Muon([{ params: [['a', p['layers.0.w']]] }, { params: [['a', p['layers.1.w']]] }])).toThrow(/two parameters are named 'a'/);
    expect(() => new Muon({ a: p['layers.0.w'], b: p['layers.0.w'] })).toThrow(/shares its memory/);
    expect(() => new AdamW([{ params: p, optimizer: 'muon' }])).toThrow(ConfigError);
    expect(() => new Muon({})).toThrow(/no parameters/);
  });

  test('integer parameters → DTypeError; non-tensors → ArgumentError', () => {
    expect(() => new Muon({ w: zeros([4, 4], { dtype: 'int64' }) })).toThrow(DTypeError);
    expect(() => new Muon({ w: [[1, 2]] as never })).toThrow(ArgumentError);
  });

  test('setLr rejects negative values and unknown groups', () => {
    const optimizer = new Muon(model());
    expect(() => optimizer.setLr(-1)).toThrow(ConfigError);
    expect(() => optimizer.setLr(1e-3, { group: 'nope' })).toThrow(/no param group named 'nope'/);
  });
});

describe('step checks leave parameters and state unchanged', () => {
  test('a gradient whose shape differs from its parameter → ShapeError naming it', async () => {
    const params = model();
    const optimizer = new Muon(params);
    giveGrads(params);
    optimizer.stepSync(); // non-trivial state
    const before = snapshot(params);
    const stateBefore = snapshot(optimizer.stateDict());
    // Tensor's grad setter refuses a wrong shape itself, so the gradients are passed to step() by name.
    const grads = { 'layers.0.w': randn([8, 16]), 'layers.1.w': randn([8, 16]), 'norm.weight': randn([16]) };
    expect(() => optimizer.stepSync(grads)).toThrow(ShapeError);
    expect(() => optimizer.stepSync(grads)).toThrow(/'layers.1.w' has shape \[8, 16\] but the parameter has shape \[16, 8\]/);
    await expect(optimizer.step(grads)).rejects.toThrow(ShapeError);
    expect(() => optimizer.stepSync({ 'layers.9.w': randn([2]) })).toThrow(/'layers.9.w', which is not a parameter/);
    expectUnchanged(before, params);
    expectUnchanged(stateBefore, optimizer.stateDict());
    expect(optimizer.stepCount).toBe(1);
  });

  test('a gradient of another dtype → DTypeError', () => {
    const params = model();
    const optimizer = new AdamW(params);
    expect(() => optimizer.stepSync({ 'norm.weight': randn([16]).to({ dtype: 'float64' }) })).toThrow(/'norm.weight' is float64/);
    expect(() => optimizer.stepSync({ 'norm.weight': randn([16]).to({ dtype: 'float64' }) })).toThrow(DTypeError);
  });

  test('NaN / Inf gradients → ArgumentError naming the parameters, nothing changed', async () => {
    const params = model();
    const optimizer = new Muon(params);
    giveGrads(params);
    params['layers.0.w'].grad = tensor(Array.from({ length: 8 }, () => Array(16).fill(Number.NaN)));
    params['norm.weight'].grad = tensor(Array(16).fill(Number.POSITIVE_INFINITY));
    const before = snapshot(params);
    expect(() => optimizer.stepSync()).toThrow(ArgumentError);
    await expect(optimizer.step()).rejects.toThrow(/non-finite gradient \(NaN or Inf\) in 'layers.0.w', 'norm.weight'/);
    expectUnchanged(before, params);
    expect(optimizer.stepCount).toBe(0);
  });

  test("nonFiniteGrads: 'skip' skips the step and reports the parameters", async () => {
    const params = model();
    const optimizer = new Muon(params, { nonFiniteGrads: 'skip' });
    giveGrads(params);
    params['layers.1.w'].grad = randn([16, 8]).div(0);
    const before = snapshot(params);
    expect(await optimizer.step()).toEqual({ skipped: true, nonFiniteParameters: ['layers.1.w'] });
    expectUnchanged(before, params);
    expect(optimizer.stepCount).toBe(0);
    giveGrads(params);
    expect(await optimizer.step()).toEqual({ skipped: false, nonFiniteParameters: [] });
    expect(params['layers.1.w'].equal(before['layers.1.w'])).toBe(false);
  });

  test('a parameter without a gradient is left alone; zeroGrad drops gradients', () => {
    const params = model();
    const optimizer = new Muon(params);
    giveGrads(params);
    optimizer.zeroGrad();
    expect(params['layers.0.w'].grad).toBeNull();
    params['layers.1.w'].grad = randn([16, 8]);
    const before = snapshot(params);
    optimizer.stepSync();
    expect(params['layers.0.w'].equal(before['layers.0.w'])).toBe(true);
    expect(params['layers.1.w'].equal(before['layers.1.w'])).toBe(false);
  });

  test('all-zero gradients and empty parameters step without NaN or errors', () => {
    const zero = zeros([16, 16]);
    const empty = zeros([0, 16]);
    const optimizer = new Muon({ zero, empty });
    optimizer.stepSync({ zero: zeros([16, 16]), empty: zeros([0, 16]) });
    expect(zero.equal(zeros([16, 16]))).toBe(true);
  });

  test('a bad state dict → CheckpointError naming the key, state unchanged', () => {
    const params = model();
    const optimizer = new Muon(params);
    giveGrads(params);
    optimizer.stepSync();
    const state = optimizer.stateDict();
    const before = snapshot(state);
    const missing = { ...state };
    delete missing['state.layers.1.w.momentum_buffer'];
    expect(() => optimizer.loadStateDict(missing)).toThrow(CheckpointError);
    expect(() => optimizer.loadStateDict(missing)).toThrow(/no 'state.layers.1.w.momentum_buffer'/);
    const wrongShape = { ...state, 'state.layers.0.w.momentum_buffer': zeros([3, 3]) };
    expect(() => optimizer.loadStateDict(wrongShape)).toThrow(/has shape \[3, 3\]/);
    const extra = { ...state, 'state.other.momentum_buffer': zeros([3, 3]) };
    expect(() => optimizer.loadStateDict(extra)).toThrow(/unknown key 'state.other.momentum_buffer'/);
    expectUnchanged(before, optimizer.stateDict());
  });
});

describe('dispose()', () => {
  test.each(['muon', 'adamw'] as const)('%s: frees the state; every later call is a DisposedError; a second dispose is a no-op', async (kind) => {
    const params = model();
    const optimizer = kind === 'muon' ? new Muon(params, { lr: 0.02 }) : new AdamW(params, { lr: 1e-3 });
    for (const p of Object.values(params)) p.grad = randn([...p.shape]);
    await optimizer.step();
    expect(optimizer.stateBytes()).toBeGreaterThan(0);
    optimizer.dispose();
    await expect(optimizer.step()).rejects.toThrow(DisposedError);
    expect(() => optimizer.stateBytes()).toThrow(/the optimizer was disposed/);
    expect(() => optimizer.dispose()).not.toThrow();
  });
});
