"""Test oracle for generation: builds a tiny transformers model with the seeded weights of
scripts/oracle/transformers_reference.py, saves it with save_pretrained, and records transformers' own greedy
`generate` (tokens and per-step logits) for one prompt and a left-padded batch, plus the logits of a full
(uncached) forward over each finished sequence. Test oracle only: the product never runs Python.

stdin (JSON): {"cases": [{"config": {...}, "seed": int, "out_dir": str, "prompt": [ids], "batch": [[ids], [ids]],
               "max_new_tokens": int, "device"?: "cpu" | "cuda"}, ...]}  (device: where transformers runs; default cpu)
prints {"results": [{"single": {"tokens": [...], "logits": [[...]] , "full_logits": [[...]]},
                     "batch": {"tokens": [[...], [...]], "logits": [[[...]]]}}, ...]} as its last line.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "oracle"))
from transformers_reference import build_model  # noqa: E402


def greedy(model, input_ids, mask, max_new_tokens):
    out = model.generate(input_ids=input_ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new_tokens,
                         min_new_tokens=max_new_tokens, return_dict_in_generate=True, output_logits=True)
    new_tokens = out.sequences[:, input_ids.shape[1]:]
    logits = torch.stack(out.logits, dim=1).float()  # [B, steps, V]
    return new_tokens, logits


def run_case(request):
    model = build_model(request["config"], request["seed"])
    model.eval()
    model.save_pretrained(request["out_dir"])
    device = torch.device(request.get("device", "cpu"))
    model = model.to(device)
    # Exactly max_new_tokens tokens: no EOS stop; padding id 0 for the left-padded batch.
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    steps = request["max_new_tokens"]
    result = {}
    with torch.no_grad():
        prompt = torch.tensor([request["prompt"]], dtype=torch.long, device=device)
        tokens, logits = greedy(model, prompt, torch.ones_like(prompt), steps)
        full_input = torch.cat([prompt, tokens[:, :-1]], dim=1)
        full_logits = model(input_ids=full_input).logits[0, prompt.shape[1] - 1:].float()
        result["single"] = {"tokens": tokens[0].tolist(), "logits": logits[0].tolist(), "full_logits": full_logits.tolist()}

        rows = request["batch"]
        width = max(len(row) for row in rows)
        ids = torch.tensor([[0] * (width - len(row)) + row for row in rows], dtype=torch.long, device=device)
        mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows], dtype=torch.long, device=device)
        tokens, logits = greedy(model, ids, mask, steps)
        result["batch"] = {"tokens": tokens.tolist(), "logits": logits.tolist()}
    return result


def main():
    request = json.load(sys.stdin)
    print(json.dumps({"results": [run_case(case) for case in request["cases"]]}))


if __name__ == "__main__":
    main()
