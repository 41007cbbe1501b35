# Test oracle (never product code): runs reference optimizers in Python on the same parameters and
# gradients as a test of ours, and compares with our results.
#
# Modes:
#   torch-muon      torch.optim.Muon (2-D parameters only)
#   moonlight-muon  Moonlight's rule written here from the formulas (arXiv:2502.16982 §2): add-form
#                   momentum M <- mu*M + G, U = G + mu*M (Nesterov) or M; per matrix (a 3-D parameter is a stack
#                   of matrices) Newton-Schulz: cast to the NS dtype, transpose tall matrices,
#                   X <- X / (scale*||X||_F + eps), X <- a*X + (b*A + c*A^2) X with A = X X^T (computed with
#                   addmm, as torch does); W <- W(1 - lr*wd) - lr*s*O. Parameters with < 2 dims or an
#                   embed_tokens / lm_head name take Moonlight's AdamW (below), with the same lr and wd.
#   torch-adamw     torch.optim.AdamW
#   moonlight-adamw Moonlight toy_train.py's AdamW from its formulas: m <- lerp(m, g, 1-b1),
#                   v <- lerp(v, g^2, 1-b2), u = m / (eps + sqrt(v)), W <- W(1 - lr*wd) - lr*sqrt(1-b2^t)/(1-b1^t)*u
#
# Inputs are regenerated from the seed with torch's generator, whose stream libtorch shares: parameters
# randn(shape) in name order, then per step per name randn(shape) * gradScale. Our float32 W after each
# step (step-major, name order) is read from oursFile.
# The reference optimizer runs on options' `device` (default cpu; the GPU check passes cuda), inputs drawn on the CPU.
# stdin: JSON {mode, seed, names, shapes, gradScale, steps, checksum, oursFile, options, device?}
# stdout: JSON {name: {maxDiff, maxRef}}: Muon parameters compare O = u/s, AdamW ones W itself, where
# u_t = (W_{t-1}(1 - lr*wd) - W_t) / lr is the update per unit lr.
import json
import math
import sys

import torch

DTYPES = {'float32': torch.float32, 'float64': torch.float64, 'bfloat16': torch.bfloat16}


def newton_schulz(g, coefficients, steps, norm_scale, eps, dtype):
    x = g.to(dtype)
    tall = x.size(0) > x.size(1)
    if tall:
        x = x.T.contiguous()
    norm = x.norm()
    x = x / ((norm * norm_scale if norm_scale != 1 else norm) + eps)
    for k in range(steps):
        a, b, c = coefficients[min(k, len(coefficients) - 1)]
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


def update_scale(kind, rows, cols):
    if kind == 'match-rms-adamw':
        return 0.2 * math.sqrt(max(rows, cols))
    return math.sqrt(max(1.0, rows / cols))


def is_muon(name, shape, mode, patterns):
    if mode == 'torch-muon':
        return True
    if mode != 'moonlight-muon':
        return False
    return len(shape) >= 2 and not any(p in name for p in patterns)


def moonlight_adamw_step(w, g, s, t, lr, wd, beta1, beta2, eps):
    m = s.setdefault('m', torch.zeros_like(w))
    v = s.setdefault('v', torch.zeros_like(w))
    m.lerp_(g, 1 - beta1)
    v.lerp_(g.square(), 1 - beta2)
    direction = m / (eps + v.sqrt())
    w.mul_(1 - lr * wd)
    w.add_(direction, alpha=-lr * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t))


def moonlight_muon_step(w, g, s, o):
    m = s.setdefault('m', torch.zeros_like(w))
    m.mul_(o['momentum']).add_(g)
    u = torch.add(g, m, alpha=o['momentum']) if o['nesterov'] else m
    rows, cols = w.shape[-2], w.shape[-1]
    mats = u.reshape(-1, rows, cols)
    orth = torch.stack([newton_schulz(mats[e], o['coefficients'], o['nsSteps'], o['nsNormScale'], o['eps'],
                                      DTYPES[o['nsDtype']]) for e in range(mats.size(0))])
    w.mul_(1 - o['lr'] * o['weightDecay'])
    w.add_(orth.reshape(w.shape), alpha=-o['lr'] * update_scale(o['updateScale'], rows, cols))


def run_reference(inp, params, grads):
    mode, o = inp['mode'], inp['options']
    history = {n: [] for n in inp['names']}
    torch_opt = None
    if mode == 'torch-muon':
        adjust = 'match_rms_adamw' if o['updateScale'] == 'match-rms-adamw' else 'original'
        torch_opt = torch.optim.Muon(list(params.values()), lr=o['lr'], weight_decay=o['weightDecay'],
                                     momentum=o['momentum'], nesterov=o['nesterov'],
                                     ns_coefficients=tuple(o['coefficients'][0]), eps=o['eps'],
                                     ns_steps=o['nsSteps'], adjust_lr_fn=adjust)
    elif mode == 'torch-adamw':
        torch_opt = torch.optim.AdamW(list(params.values()), lr=o['lr'], betas=tuple(o['betas']), eps=o['eps'],
                                      weight_decay=o['weightDecay'])
    states = {n: {} for n in inp['names']}
    for t, step_grads in enumerate(grads, start=1):
        if torch_opt is not None:
            for n, p in params.items():
                p.grad = step_grads[n]
            torch_opt.step()
        else:
            with torch.no_grad():
                for n, p in params.items():
                    if is_muon(n, p.shape, mode, o.get('adamwNamePatterns', [])):
                        moonlight_muon_step(p, step_grads[n], states[n], o)
                    else:
                        beta1, beta2 = o['betas']
                        moonlight_adamw_step(p, step_grads[n], states[n], t, o['lr'], o['weightDecay'], beta1, beta2,
                                             o['adamwEps'] if mode == 'moonlight-muon' else o['eps'])
        for n, p in params.items():
            history[n].append(p.detach().double().cpu())
    return history


def main():
    inp = json.load(sys.stdin)
    torch.set_num_threads(1)
    names, shapes, scales = inp['names'], inp['shapes'], inp.get('gradScale', {})
    torch.manual_seed(inp['seed'])
    initial = {n: torch.randn(shapes[n]) for n in names}
    grads = []
    for _ in range(inp['steps']):
        step_grads = {}
        for n in names:
            g = torch.randn(shapes[n])
            step_grads[n] = g * scales[n] if n in scales else g
        grads.append(step_grads)
    checksum = sum(initial[n].double().sum().item() for n in names)
    if abs(checksum - inp['checksum']) > 1e-6 * max(1.0, abs(checksum)):
        raise SystemExit(f'random streams differ: checksum {checksum} here, {inp["checksum"]} in JS')

    device = torch.device(inp.get('device', 'cpu'))
    params = {n: torch.nn.Parameter(initial[n].to(device, copy=True)) for n in names}
    reference = run_reference(inp, params, [{n: g.to(device) for n, g in step.items()} for step in grads])

    raw = torch.frombuffer(bytearray(open(inp['oursFile'], 'rb').read()), dtype=torch.float32).double()
    ours = {n: [] for n in names}
    offset = 0
    for _ in range(inp['steps']):
        for n in names:
            count = math.prod(shapes[n])
            ours[n].append(raw[offset:offset + count].reshape(shapes[n]))
            offset += count
    if offset != raw.numel():
        raise SystemExit(f'our results hold {raw.numel()} values, expected {offset}')

    o = inp['options']
    lr, wd = o['lr'], o['weightDecay']
    result = {}
    for n in names:
        muon = is_muon(n, shapes[n], inp['mode'], o.get('adamwNamePatterns', []))
        scale = update_scale(o.get('updateScale', 'match-rms-adamw'), shapes[n][-2], shapes[n][-1]) if muon else 1
        max_diff, max_ref = 0.0, 0.0
        for t in range(inp['steps']):
            if muon:
                prev_ours = initial[n].double() if t == 0 else ours[n][t - 1]
                prev_ref = initial[n].double() if t == 0 else reference[n][t - 1]
                a = (prev_ours * (1 - lr * wd) - ours[n][t]) / (lr * scale)
                b = (prev_ref * (1 - lr * wd) - reference[n][t]) / (lr * scale)
            else:
                a, b = ours[n][t], reference[n][t]
            max_diff = max(max_diff, (a - b).abs().max().item())
            max_ref = max(max_ref, b.abs().max().item())
        result[n] = {'maxDiff': max_diff, 'maxRef': max_ref}
    print(json.dumps(result))


main()
