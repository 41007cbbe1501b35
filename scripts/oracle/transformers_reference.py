"""Test oracle: builds a tiny transformers model, fills it with seeded weights, saves it with
save_pretrained (safetensors, fp32, checkpoint names) and writes transformers' own logits, loss and
parameter gradients for given inputs. Test oracle only: the product never runs Python.

stdin (JSON): {"cases": [{"config": {...config.json...}, "seed": int, "out_dir": str, "input_ids": [[...]],
               "labels": [[...]] | null, "attention_mask": [[...]] | null}, ...]}
per case writes out_dir/model/ (save_pretrained, sharded with an index), out_dir/outputs.safetensors (logits) and
out_dir/grads.safetensors (gradients by checkpoint name); prints {"results": [{"loss": float | null,
"num_parameters": int}, ...]} as its last line. Several cases per run: importing transformers costs seconds.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import (DeepseekV3Config, DeepseekV3ForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

MODELS = {
    "deepseek_v3": (DeepseekV3Config, DeepseekV3ForCausalLM),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM),
    "llama": (LlamaConfig, LlamaForCausalLM),
}


def fill_weights(model, seed):
    """Weights large enough that every feature changes the logits (init's 0.02 std would hide bugs)."""
    generator = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=generator) * std + mean

    with torch.no_grad():
        for name, tensor in sorted(model.state_dict(keep_vars=True).items()):
            if name.endswith("rotary_emb.inv_freq") or name.endswith("original_inv_freq"):
                continue
            if "norm" in name:
                tensor.copy_(normal(tensor.shape, 0.1, 1.0))
            elif name.endswith("e_score_correction_bias"):
                tensor.copy_(normal(tensor.shape, 0.3))
            elif name.endswith(".bias"):
                tensor.copy_(normal(tensor.shape, 0.1))
            elif "embed_tokens" in name:
                tensor.copy_(normal(tensor.shape, 1.0))
            else:
                fan_in = tensor.shape[-1]
                tensor.copy_(normal(tensor.shape, 1.0 / math.sqrt(fan_in)))


def checkpoint_gradients(model):
    """Gradients under checkpoint names: transformers' fused expert stacks split per expert."""
    grads = {}
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        grad = param.grad.detach().float()
        if name.endswith("mlp.experts.gate_up_proj"):
            prefix = name[: -len("gate_up_proj")]
            gate, up = grad.chunk(2, dim=1)  # rows [:I] produce the gate half of the output
            for e in range(grad.shape[0]):
                grads[f"{prefix}{e}.gate_proj.weight"] = gate[e].contiguous()
                grads[f"{prefix}{e}.up_proj.weight"] = up[e].contiguous()
        elif name.endswith("mlp.experts.down_proj"):
            prefix = name[: -len("down_proj")]
            for e in range(grad.shape[0]):
                grads[f"{prefix}{e}.down_proj.weight"] = grad[e].contiguous()
        else:
            grads[name] = grad.contiguous()
    return grads


def build_model(raw_config, seed):
    """A transformers model of the config.json object (eager attention, fp32) with fill_weights(seed)."""
    raw = dict(raw_config)
    config_class, model_class = MODELS[raw["model_type"]]
    config = config_class(**{k: v for k, v in raw.items() if k != "model_type"})
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    model = model_class(config).float()
    fill_weights(model, seed)
    return model


def run_case(request):
    model = build_model(request["config"], request["seed"])
    out_dir = request["out_dir"]
    # Small shards: the reader under test goes through model.safetensors.index.json as for real checkpoints.
    model.save_pretrained(os.path.join(out_dir, "model"), max_shard_size="200KB")

    # The split of the fused expert stack must match the per-expert tensors save_pretrained wrote.
    saved = {}
    for name in os.listdir(os.path.join(out_dir, "model")):
        if name.endswith(".safetensors"):
            saved.update(load_file(os.path.join(out_dir, "model", name)))
    for name, param in model.named_parameters():
        if name.endswith("mlp.experts.gate_up_proj"):
            prefix = name[: -len("gate_up_proj")]
            gate, up = param.detach().chunk(2, dim=1)
            assert torch.equal(saved[f"{prefix}0.gate_proj.weight"], gate[0]), "gate/up split mismatch"
            assert torch.equal(saved[f"{prefix}0.up_proj.weight"], up[0]), "gate/up split mismatch"

    model.train()
    input_ids = torch.tensor(request["input_ids"], dtype=torch.long)
    labels = torch.tensor(request["labels"], dtype=torch.long) if request.get("labels") is not None else None
    mask = request.get("attention_mask")
    mask = torch.tensor(mask, dtype=torch.long) if mask is not None else None
    output = model(input_ids=input_ids, attention_mask=mask, labels=labels)
    save_file({"logits": output.logits.detach().float().contiguous()}, os.path.join(out_dir, "outputs.safetensors"))
    loss = None
    if labels is not None:
        output.loss.backward()
        save_file(checkpoint_gradients(model), os.path.join(out_dir, "grads.safetensors"))
        loss = output.loss.item()
    # Trainable parameters, counted once (tied weights are one parameter); buffers are not parameters.
    return {"loss": loss, "num_parameters": sum(p.numel() for p in model.parameters())}


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    print(json.dumps({"results": [run_case(case) for case in request["cases"]]}))


if __name__ == "__main__":
    main()
