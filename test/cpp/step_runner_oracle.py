"""Test oracle (never product code) for test/cpp/step_runner_check.cpp: a few training steps of a tiny
DeepSeek-V3 model in transformers with Moonlight's optimizer written here from its formulas.

Per step: the language-model loss of the whole batch is the token-weighted mean over its micro-batches,
sum_i loss_i * n_i / N (n_i the labelled tokens labels[:, 1:] != -100 of micro-batch i, N their sum); its
gradients are clipped as torch.nn.utils.clip_grad_norm_ (coefficient min(1, max / (norm + 1e-6))); then
Muon (arXiv:2502.16982 §2, float64 here): M <- mu*M + G, U = G + mu*M (Nesterov), per matrix (an expert's
gate, up and down projections each one) Newton-Schulz with Keller Jordan's coefficients on U^T when tall,
X <- U / (||U||_F + eps), X <- a*X + (b*A + c*A^2) X with A = X X^T, W <- W(1 - lr*wd) - lr*0.2*sqrt(max(A, B))*O;
torch.optim.AdamW for embeddings, lm_head and parameters with fewer than 2 dimensions.

stdin (JSON): {config, seed, out_dir, micro_batches: [{input_ids, labels}], steps, lr, weight_decay, max_grad_norm,
               momentum, ns_steps, ns_coefficients: [a, b, c], ns_eps, adam_betas: [b1, b2], adam_eps}
writes out_dir/model/ (save_pretrained: the initial weights), out_dir/batches.safetensors, out_dir/expected.safetensors
(weights after the last step, checkpoint names) and out_dir/fixture.json (the options, per-step losses and norms).
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "oracle"))
from transformers_reference import build_model, checkpoint_gradients  # noqa: E402


def newton_schulz(u, coefficients, steps, eps):
    x = u.T if u.size(0) > u.size(1) else u
    x = x / (x.norm() + eps)
    a, b, c = coefficients
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if u.size(0) > u.size(1) else x


def set_model_weights(model, weights):
    """Copies checkpoint-named weights into the model (transformers fuses each layer's experts into stacks)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("mlp.experts.gate_up_proj"):
                prefix = name[: -len("gate_up_proj")]
                for e in range(param.shape[0]):
                    param[e].copy_(torch.cat([weights[f"{prefix}{e}.gate_proj.weight"], weights[f"{prefix}{e}.up_proj.weight"]]))
            elif name.endswith("mlp.experts.down_proj"):
                prefix = name[: -len("down_proj")]
                for e in range(param.shape[0]):
                    param[e].copy_(weights[f"{prefix}{e}.down_proj.weight"])
            else:
                param.copy_(weights[name])


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    out_dir = request["out_dir"]
    model = build_model(request["config"], request["seed"])
    model.save_pretrained(os.path.join(out_dir, "model"))
    weights = {}
    for file in os.listdir(os.path.join(out_dir, "model")):
        if file.endswith(".safetensors"):
            weights.update(load_file(os.path.join(out_dir, "model", file)))
    weights = {name: w.float().clone() for name, w in weights.items() if "e_score_correction_bias" not in name}
    model.train()

    batches = [(torch.tensor(b["input_ids"]), torch.tensor(b["labels"])) for b in request["micro_batches"]]
    save_file({f"{kind}_{i}": t.contiguous() for i, (ids, labels) in enumerate(batches)
               for kind, t in (("input_ids", ids), ("labels", labels))}, os.path.join(out_dir, "batches.safetensors"))
    counts = [int((labels[:, 1:] != -100).sum()) for _, labels in batches]
    total_tokens = sum(counts)

    lr, wd, mu = request["lr"], request["weight_decay"], request["momentum"]
    muon_names = [n for n, w in weights.items() if w.dim() >= 2 and "embed_tokens" not in n and "lm_head" not in n]
    adam_leaves = {n: w.clone().requires_grad_(True) for n, w in weights.items() if n not in muon_names}
    adam = torch.optim.AdamW(list(adam_leaves.values()), lr=lr, betas=tuple(request["adam_betas"]), eps=request["adam_eps"],
                             weight_decay=wd, foreach=False)
    momentum = {n: torch.zeros_like(weights[n], dtype=torch.float64) for n in muon_names}
    losses, norms = [], []
    for _ in range(request["steps"]):
        set_model_weights(model, weights)
        model.zero_grad(set_to_none=True)
        loss_sum = 0.0
        for (ids, labels), count in zip(batches, counts):
            loss = model(input_ids=ids, labels=labels).loss
            (loss * (count / total_tokens)).backward()
            loss_sum += loss.item() * count
        losses.append(loss_sum / total_tokens)
        grads = {n: g.double() for n, g in checkpoint_gradients(model).items()}
        norm = math.sqrt(sum(float(g.pow(2).sum()) for g in grads.values()))
        norms.append(norm)
        coefficient = min(1.0, request["max_grad_norm"] / (norm + 1e-6))
        for n in muon_names:
            g = grads[n] * coefficient
            momentum[n] = mu * momentum[n] + g
            o = newton_schulz(g + mu * momentum[n], request["ns_coefficients"], request["ns_steps"], request["ns_eps"])
            rows, cols = g.shape
            w = weights[n].double() * (1 - lr * wd) - lr * 0.2 * math.sqrt(max(rows, cols)) * o
            weights[n] = w.float()
        for n, leaf in adam_leaves.items():
            leaf.grad = (grads[n] * coefficient).float()
        adam.step()
        for n, leaf in adam_leaves.items():
            weights[n] = leaf.detach().clone()

    save_file({n: w.contiguous() for n, w in weights.items()}, os.path.join(out_dir, "expected.safetensors"))
    fixture = {k: request[k] for k in ("steps", "lr", "weight_decay", "max_grad_norm", "momentum", "ns_steps",
                                       "ns_coefficients", "ns_eps", "adam_betas", "adam_eps")}
    fixture.update(micro_batches=len(batches), tokens=total_tokens, losses=losses, grad_norms=norms)
    with open(os.path.join(out_dir, "fixture.json"), "w") as f:
        json.dump(fixture, f)
    print(json.dumps({"tokens": total_tokens, "losses": losses}))


if __name__ == "__main__":
    main()
