/**
 * LR schedules against transformers' schedulers (get_cosine_schedule_with_warmup, get_wsd_schedule, the
 * ones Moonlight's toy_train.py uses) driving a torch optimizer: the lr it reports at every step.
 */
import { ConfigError, ConstantLR, CosineWithWarmup, WarmupStableDecay } from '../src';
import { runPython } from './helpers/python';

const ORACLE = `
import json, sys, torch
from transformers import get_cosine_schedule_with_warmup, get_wsd_schedule
inp = json.load(sys.stdin)
out = {}
for name, spec in inp.items():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=spec['peakLr'])
    if spec['kind'] == 'cosine':
        sched = get_cosine_schedule_with_warmup(opt, spec['warmupSteps'], spec['totalSteps'])
    else:
        sched = get_wsd_schedule(opt, spec['warmupSteps'], spec['decaySteps'], num_stable_steps=spec['stableSteps'],
                                 decay_type=spec['decayShape'], min_lr_ratio=spec['minLrRatio'])
    lrs = []
    for _ in range(spec['steps']):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    out[name] = lrs
print(json.dumps(out))
`;

describe('LR schedules', () => {
  const cosine = new CosineWithWarmup({ peakLr: 1e-3, warmupSteps: 100, totalSteps: 1000 });
  const wsdCosine = new WarmupStableDecay({ peakLr: 4.2e-4, warmupSteps: 20, stableSteps: 50, decaySteps: 30, minLrRatio: 0.1 });
  const wsdSqrt = new WarmupStableDecay({ peakLr: 1e-3, warmupSteps: 10, stableSteps: 20, decaySteps: 40, decayShape: '1-sqrt' });
  const reference = runPython<Record<string, number[]>>(ORACLE, {
    cosine: { kind: 'cosine', peakLr: 1e-3, warmupSteps: 100, totalSteps: 1000, steps: 1100 },
    wsdCosine: { kind: 'wsd', peakLr: 4.2e-4, warmupSteps: 20, stableSteps: 50, decaySteps: 30, decayShape: 'cosine', minLrRatio: 0.1, steps: 120 },
    wsdSqrt: { kind: 'wsd', peakLr: 1e-3, warmupSteps: 10, stableSteps: 20, decaySteps: 40, decayShape: '1-sqrt', minLrRatio: 0, steps: 80 },
  });

  test.each([
    ['cosine', cosine],
    ['wsdCosine', wsdCosine],
    ['wsdSqrt', wsdSqrt],
  ] as const)('%s matches transformers at every step', (name, schedule) => {
    const worst = Math.max(...reference[name].map((lr, step) => Math.abs(schedule.lrAt(step) - lr)));
    expect(worst).toBeLessThanOrEqual(1e-15);
  });

  test('constant, and checks', () => {
    expect(new ConstantLR({ lr: 3e-4 }).lrAt(12345)).toBe(3e-4);
    expect(() => new ConstantLR({ lr: -1 })).toThrow(ConfigError);
    expect(() => cosine.lrAt(-1)).toThrow(/step is -1/);
    expect(() => new CosineWithWarmup({ peakLr: 1e-3, totalSteps: 10.5 })).toThrow(/totalSteps/);
    expect(() => new WarmupStableDecay({ peakLr: 1, warmupSteps: 1, stableSteps: 1, decaySteps: 1, decayShape: 'exp' as never })).toThrow(ConfigError);
  });
});
