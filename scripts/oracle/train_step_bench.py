"""transformers' side of bench:train and of the GPU check's training benchmarks (benchmark oracle; the product
never runs Python): times one training step (forward + loss + backward + optimizer) of transformers (PyTorch
eager) on the given config and token ids.

stdin (JSON): {"config": {...config.json...}, "ids": [[...]], "steps": int, "warmup": int, "optimizer": bool,
               "device": "cpu" | "cuda" (default "cpu"), "precision": "fp32" | "bf16-mixed" (default "fp32")}
Optimizers: torch.optim.Muon(adjust_lr_fn='match_rms_adamw') over the 2-D hidden matrices + AdamW over the rest
(torch's Muon takes only 2-D parameters, so transformers' fused 3-D expert stacks go to AdamW). 'bf16-mixed':
fp32 weights, forward and loss under torch.autocast(bfloat16), as ours. On CUDA each step ends with a
synchronisation, so its time is the device's.
Prints {"times": [sorted seconds], "loss", "threads", "attn", "peakBytes"} as its last line.
"""
import json
import sys
import time

import torch
from transformers import DeepseekV3Config, DeepseekV3ForCausalLM, Qwen2Config, Qwen2ForCausalLM

CLASSES = {"deepseek_v3": (DeepseekV3Config, DeepseekV3ForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM)}


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    req = json.load(sys.stdin)
    device = torch.device(req.get("device", "cpu"))
    mixed = req.get("precision", "fp32") == "bf16-mixed"
    raw = {k: v for k, v in req["config"].items() if k != "architectures"}
    cfg_cls, model_cls = CLASSES[raw.pop("model_type")]
    torch.manual_seed(0)
    with device:
        model = model_cls(cfg_cls(**raw)).float().train()
    ids = torch.tensor(req["ids"], dtype=torch.long, device=device)
    optimizers = []
    if req["optimizer"]:
        def hidden(n, p):
            return p.ndim == 2 and "embed_tokens" not in n and "lm_head" not in n
        muon = [p for n, p in model.named_parameters() if hidden(n, p)]
        rest = [p for n, p in model.named_parameters() if not hidden(n, p)]
        optimizers = [torch.optim.Muon(muon, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                                       adjust_lr_fn="match_rms_adamw"),
                      torch.optim.AdamW(rest, lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)]

    def step():
        model.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mixed):
            out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        for opt in optimizers:
            opt.step()
        return out.loss.item()

    for _ in range(req["warmup"]):
        step()
    synchronize(device)
    times = []
    for _ in range(req["steps"]):
        start = time.perf_counter()
        loss = step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    times.sort()
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    print(json.dumps({"times": times, "loss": loss, "threads": torch.get_num_threads(),
                      "attn": model.config._attn_implementation, "peakBytes": peak}))


if __name__ == "__main__":
    main()
