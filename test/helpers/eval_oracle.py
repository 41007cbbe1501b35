"""
Oracle for test/eval.test.ts (Python transformers 5.17 + torch; test only).

stdin (JSON): {"config": {...}, "seed": int, "model_dir": D, "continuations": [{"context_ids": [...],
"continuation_ids": [...]}...], "windows": [[ids...]...]}
Builds the tiny model with the seeded weights of scripts/oracle/transformers_reference.py, saves it to D with
save_pretrained, then, in fp32 eager mode and one unpadded sequence at a time:
- per continuation: sum over the continuation tokens of log_softmax(logits)[token] at the position before each
  (the sequence fed is context + continuation minus its last token);
- windows: transformers' own loss with labels = input_ids over all windows at once (mean over every predicted token).
Prints {"log_likelihoods": [...], "window_loss": float}.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "oracle"))
from transformers_reference import MODELS, fill_weights  # noqa: E402


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    # The same model transformers_reference.py builds: eager attention, every weight set by fill_weights(seed).
    settings = {k: v for k, v in request["config"].items() if k != "model_type"}
    config_class, model_class = MODELS[request["config"]["model_type"]]
    torch.manual_seed(0)
    model = model_class(config_class(**settings, attn_implementation="eager")).float()
    fill_weights(model, request["seed"])
    model.save_pretrained(request["model_dir"])
    model.eval()
    log_likelihoods = []
    with torch.no_grad():
        for pair in request["continuations"]:
            whole = pair["context_ids"] + pair["continuation_ids"]
            logits = model(input_ids=torch.tensor([whole[:-1]])).logits[0].float()
            log_probs = torch.log_softmax(logits, dim=-1)
            n = len(pair["continuation_ids"])
            positions = range(len(whole) - 1 - n, len(whole) - 1)
            log_likelihoods.append(sum(log_probs[p, whole[p + 1]].item() for p in positions))
        windows = torch.tensor(request["windows"])
        window_loss = model(input_ids=windows, labels=windows).loss.item()
    print(json.dumps({"log_likelihoods": log_likelihoods, "window_loss": window_loss}))


if __name__ == "__main__":
    main()
