"""GPU-check oracle: transformers forward + backward on the same device as the addon (check only; the product
never runs Python).

stdin (JSON): {"action": "forward_backward", "config": {...}, "seed": int, "out_dir": str, "device": str,
               "input_ids": [[...]], "labels": [[...]], "precision": "fp32" | "bf16-mixed" (default "fp32")}
  builds the tiny model of scripts/oracle/transformers_reference.py (seeded weights), saves it to out_dir/model
  (fp32, sharded), then runs forward + backward on `device`, in fp32 or with fp32 weights under
  torch.autocast(bfloat16) (what our 'bf16-mixed' does), and writes out_dir/outputs.safetensors (logits) and
  out_dir/grads.safetensors (gradients by checkpoint name). Prints {"loss": float} as its last line.
stdin (JSON): {"action": "moonlight_config", "layers": int, "vocab_size": int | null}
  Moonlight-16B-A3B's config.json cut to `layers` layers (scripts/oracle/moonlight_width_reference.py).
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
from moonlight_width_reference import moonlight_config  # noqa: E402
from transformers_reference import build_model, checkpoint_gradients  # noqa: E402


def forward_backward(request):
    model = build_model(request["config"], request["seed"])
    out_dir = request["out_dir"]
    model.save_pretrained(os.path.join(out_dir, "model"), max_shard_size="200KB")
    device = torch.device(request["device"])
    model = model.to(device).train()
    input_ids = torch.tensor(request["input_ids"], dtype=torch.long, device=device)
    labels = torch.tensor(request["labels"], dtype=torch.long, device=device)
    mixed = request.get("precision", "fp32") == "bf16-mixed"
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mixed):
        output = model(input_ids=input_ids, labels=labels)
    output.loss.backward()
    save_file({"logits": output.logits.detach().float().cpu().contiguous()}, os.path.join(out_dir, "outputs.safetensors"))
    save_file({k: v.float().cpu() for k, v in checkpoint_gradients(model).items()}, os.path.join(out_dir, "grads.safetensors"))
    return {"loss": output.loss.item()}


def main():
    request = json.load(sys.stdin)
    actions = {"forward_backward": forward_backward,
               "moonlight_config": lambda r: moonlight_config(r["layers"], r.get("vocab_size"))}
    print(json.dumps(actions[request["action"]](request)))


if __name__ == "__main__":
    main()
