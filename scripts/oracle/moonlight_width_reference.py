"""Moonlight-width checkpoints and transformers' side of bench:load (benchmark/test oracle; the product never runs Python).

stdin (JSON), one of:
  {"action": "make", "dir": str, "layers": int, "seed": int, "vocab_size": int | null}
      Moonlight-16B-A3B-Instruct's config.json (model card values, transformers-4 key style) cut to `layers`
      layers (and optionally to a smaller vocabulary), random weights written by transformers' save_pretrained as
      bfloat16 shards of at most 1 GB with an index, per-expert tensor names as published, non-zero routing biases.
      Skipped when dir/.complete names the same request (the checkpoint is cached between runs).
  {"action": "load", "dir": str, "dtype": "bfloat16" | "float32", "input_ids": [[...]]}
      times AutoModelForCausalLM.from_pretrained(dir, dtype) followed by one forward pass of input_ids (so every
      weight is materialised), and reports the peak RSS above the RSS before the load (VmHWM after resetting it
      through /proc/self/clear_refs).
  {"action": "logits", "dir": str, "dtype": ..., "input_ids": [[...]], "new_tokens": int, "device"?: str}
      transformers' logits of input_ids and its greedy tokens, on `device` (default cpu).
Prints one JSON object as its last line.
"""
import json
import os
import sys
import time

import torch

# Moonlight-16B-A3B-Instruct config.json (huggingface.co/moonshotai/Moonlight-16B-A3B-Instruct), without auto_map.
MOONLIGHT_CONFIG = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "hidden_size": 2048, "intermediate_size": 11264, "moe_intermediate_size": 1408,
    "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6,
    "first_k_dense_replace": 1, "moe_layer_freq": 1, "num_hidden_layers": 27,
    "num_attention_heads": 16, "num_key_value_heads": 16, "q_lora_rank": None, "kv_lora_rank": 512,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "topk_method": "noaux_tc", "scoring_func": "sigmoid", "n_group": 1, "topk_group": 1,
    "routed_scaling_factor": 2.446, "norm_topk_prob": True, "vocab_size": 163840,
    "rope_theta": 50000.0, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "bos_token_id": 163584, "eos_token_id": 163586,
    "hidden_act": "silu", "attention_bias": False, "attention_dropout": 0.0, "num_nextn_predict_layers": 0,
    "aux_loss_alpha": 0.001, "seq_aux": True, "ep_size": 1, "pretraining_tp": 1, "initializer_range": 0.02,
    "use_cache": True,
}


def moonlight_config(layers, vocab_size):
    config = dict(MOONLIGHT_CONFIG, num_hidden_layers=layers)
    if vocab_size:
        config["vocab_size"] = vocab_size
    return config


def make(request):
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

    directory = request["dir"]
    marker = os.path.join(directory, ".complete")
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == request:
                return {"cached": True}
    config_json = moonlight_config(request["layers"], request.get("vocab_size"))
    config = DeepseekV3Config(**{k: v for k, v in config_json.items() if k not in ("architectures", "model_type")})
    with torch.device("meta"):
        model = DeepseekV3ForCausalLM(config)
    model = model.to_empty(device="cpu").to(torch.bfloat16)
    generator = torch.Generator().manual_seed(request["seed"])
    with torch.no_grad():
        # to_empty() leaves everything uninitialised: fill the parameters and the routing biases; rebuild the rotary
        # inverse frequencies (a non-persistent buffer that is not saved but is used by the forward pass).
        for module in model.modules():
            if hasattr(module, "inv_freq") and hasattr(module, "rope_init_fn"):
                inv_freq, _ = module.rope_init_fn(module.config, "cpu")
                module.inv_freq = inv_freq
                module.original_inv_freq = inv_freq
        biases = [(n, b) for n, b in model.named_buffers() if n.endswith("e_score_correction_bias")]
        for name, tensor in list(model.named_parameters()) + biases:
            if name.endswith("e_score_correction_bias"):
                # Large enough to change which experts are chosen, as trained biases do; fp32 as transformers keeps it.
                values = 0.3 * torch.randn(tensor.shape, generator=generator)
                owner = model.get_submodule(name.rsplit(".", 1)[0])
                owner.e_score_correction_bias = values.float()
                continue
            if tensor.dim() == 1:
                values = 1 + 0.1 * torch.randn(tensor.shape, generator=generator)  # RMSNorm weights
            else:
                values = torch.randn(tensor.shape, generator=generator) / tensor.shape[-1] ** 0.5
            tensor.copy_(values.to(tensor.dtype))
    os.makedirs(directory, exist_ok=True)
    model.save_pretrained(directory, max_shard_size="1GB")
    # Moonlight ships transformers-4 keys (torch_dtype, rope_theta): write its own config.json style.
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config_json, f, indent=2)
    parameters = sum(p.numel() for p in model.parameters())
    with open(marker, "w") as f:
        json.dump(request, f)
    return {"cached": False, "parameters": parameters}


def rss_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def load(request):
    from transformers import AutoModelForCausalLM

    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[request["dtype"]]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    before = rss_bytes("VmRSS")
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(request["dir"], dtype=dtype)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor(request["input_ids"])).logits
    seconds = time.perf_counter() - start
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    weight_bytes += sum(b.numel() * b.element_size() for b in model.buffers())
    return {
        "seconds": seconds, "peakAboveBeforeBytes": rss_bytes("VmHWM") - before, "rssBeforeBytes": before,
        "peakBytes": rss_bytes("VmHWM"), "weightBytes": weight_bytes, "logitsFirst": logits[0, -1, :4].float().tolist(),
    }


def logits(request):
    from transformers import AutoModelForCausalLM

    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[request["dtype"]]
    device = torch.device(request.get("device", "cpu"))
    model = AutoModelForCausalLM.from_pretrained(request["dir"], dtype=dtype).eval().to(device)
    input_ids = torch.tensor(request["input_ids"], device=device)
    with torch.no_grad():
        values = model(input_ids=input_ids).logits.float()
        generated = model.generate(input_ids, max_new_tokens=request["new_tokens"], do_sample=False,
                                   attention_mask=torch.ones_like(input_ids), pad_token_id=0)
    return {"logits": values.cpu().tolist(), "greedy": generated[:, input_ids.shape[1]:].tolist()}


def main():
    request = json.load(sys.stdin)
    actions = {"make": make, "load": load, "logits": logits}
    print(json.dumps(actions[request["action"]](request)))


if __name__ == "__main__":
    main()
