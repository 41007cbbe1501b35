"""transformers' side of bench:generate and of the GPU check's decode benchmark (benchmark oracle; the product
never runs Python): builds the seeded model of transformers_reference.py, saves it for our side to load, and
times transformers' greedy `generate` (PyTorch eager, its DynamicCache). Decode time = the time of `new` tokens
minus the time of one (the prefill and first token excluded); the fastest of `repeats` runs per batch.

stdin (JSON): {"config": {...}, "out_dir": str, "batches": [int], "prompts": {batch: [[ids]]}, "new": int,
               "threads": int, "repeats": int, "device": "cpu" | "cuda" (default "cpu")}
Prints {"threads": int, "<batch>": {"decode_seconds": float}, ...} as its last line.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transformers_reference import MODELS, fill_weights  # noqa: E402


def main():
    req = json.load(sys.stdin)
    device = torch.device(req.get("device", "cpu"))
    raw = dict(req["config"])
    cls, model_cls = MODELS[raw.pop("model_type")]
    torch.manual_seed(0)
    model = model_cls(cls(**raw)).float().eval()
    fill_weights(model, 1)
    model.save_pretrained(req["out_dir"])
    model = model.to(device)
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    torch.set_num_threads(req["threads"])

    def timed(ids, new, **kwargs):
        start = time.perf_counter()
        model.generate(ids, max_new_tokens=new, min_new_tokens=new, **kwargs)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    out = {"threads": torch.get_num_threads()}
    with torch.no_grad():
        for batch in req["batches"]:
            ids = torch.tensor(req["prompts"][str(batch)], device=device)
            kwargs = dict(do_sample=False, attention_mask=torch.ones_like(ids))
            timed(ids, 4, **kwargs)  # warm-up
            best = float("inf")
            for _ in range(req["repeats"]):
                prefill = timed(ids, 1, **kwargs)
                best = min(best, timed(ids, req["new"], **kwargs) - prefill)
            out[str(batch)] = {"decode_seconds": best}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
