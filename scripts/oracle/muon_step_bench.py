"""torch.optim.Muon's side of bench:muon and of the GPU check's Muon benchmark (benchmark oracle; the product
never runs Python): Moonlight's scale (adjust_lr_fn='match_rms_adamw') on the given matrices, one step per
'step' line on stdin, its time in ms printed per line. On CUDA each step ends with a synchronisation.

first stdin line (JSON): {"shapes": [[rows, cols], ...], "threads": int, "device": "cpu" | "cuda" (default "cpu")}
replies {"threads": int, "torch": version, "device": str} once ready (after one warm-up step).
"""
import json
import sys
import time

import torch


def main():
    inp = json.loads(sys.stdin.readline())
    device = torch.device(inp.get("device", "cpu"))
    torch.set_num_threads(inp["threads"])
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(s, device=device) * 0.02) for s in inp["shapes"]]
    for p in params:
        p.grad = torch.randn_like(p)
    opt = torch.optim.Muon(params, adjust_lr_fn="match_rms_adamw")

    def step():
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    step()
    print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "device": str(device)}), flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        step()
        print((time.perf_counter() - start) * 1e3, flush=True)


if __name__ == "__main__":
    main()
