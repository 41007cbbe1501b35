"""Test oracle for Hugging Face model folders (test only; the product never runs Python).

stdin (JSON): {"action": "make", "cases": [{"config": {...}, "seed": int, "dir": str, "input_ids": [[...]]}]}
  builds each tiny model with seeded weights, saves it in bfloat16 with save_pretrained in small shards, reloads
  it in float32 and writes its logits to dir/../<name>-logits.safetensors.
or {"action": "check", "cases": [{"dir": str, "input_ids": [[...]], "logits_path": str}]}
  loads a folder we wrote with from_pretrained(output_loading_info=True) and reports the loading info and
  writes its logits. Prints {"results": [...]} as its last line.
"""
import json
import logging
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transformers_reference import MODELS, fill_weights  # noqa: E402


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def logits_of(model, input_ids):
    model.eval()
    with torch.no_grad():
        return model(input_ids=torch.tensor(input_ids, dtype=torch.long)).logits.float().contiguous()


def make(case):
    raw = dict(case["config"])
    config_class, model_class = MODELS[raw["model_type"]]
    config = config_class(**{k: v for k, v in raw.items() if k != "model_type"})
    torch.manual_seed(0)
    model = model_class(config).float()
    fill_weights(model, case["seed"])
    model = model.to(torch.bfloat16)
    model.save_pretrained(case["dir"], max_shard_size="100KB")
    reloaded = AutoModelForCausalLM.from_pretrained(case["dir"], dtype=torch.float32, attn_implementation="eager")
    save_file({"logits": logits_of(reloaded, case["input_ids"])}, case["logits_path"])
    return {"files": sorted(os.listdir(case["dir"]))}


def check(case):
    captured = Captured()
    hf_logging.get_logger().addHandler(captured)
    try:
        model, info = AutoModelForCausalLM.from_pretrained(
            case["dir"], dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    finally:
        hf_logging.get_logger().removeHandler(captured)
    save_file({"logits": logits_of(model, case["input_ids"])}, case["logits_path"])
    return {
        "missing": sorted(info.get("missing_keys", [])),
        "unexpected": sorted(info.get("unexpected_keys", [])),
        "mismatched": [str(m) for m in info.get("mismatched_keys", [])],
        "warnings": [m for m in captured.messages if "key" in m.lower() or "weight" in m.lower()],
    }


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    action = make if request["action"] == "make" else check
    print(json.dumps({"results": [action(case) for case in request["cases"]]}))


if __name__ == "__main__":
    main()
