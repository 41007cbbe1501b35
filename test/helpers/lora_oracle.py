"""Test oracle for fine-tuning (test only; the product never runs Python).

stdin (JSON): {"jobs": [job, ...]}, each job one of
  {"kind": "peft_logits", "base_dir", "adapter_dir", "input_ids", "out", "dtype"?}: transformers loads the base folder
      (eager; dtype "float32" by default, or "bfloat16"), PEFT's PeftModel.from_pretrained puts our adapter on it (on a
      bf16 base PEFT keeps the adapters in fp32: autocast_adapter_dtype); logits of input_ids go to `out` (safetensors
      "logits", as float32).
  {"kind": "logits", "model_dir", "input_ids", "out"}: transformers' from_pretrained of a folder we saved; logits to `out`.
  {"kind": "tokenizer", "dir", "texts", "vocab_size", "chat_template"}: trains a byte-level BPE tokenizer.json with the
      ChatML specials on `texts` (Python tokenizers) and writes tokenizer_config.json with the chat template.
prints {"results": [...]} (per job: {"missing": [...], "unexpected": [...]} for loads, {} otherwise) as its last line.
"""
import json
import os
import sys
import warnings

import torch
from safetensors.torch import save_file


def load_model(model_dir, dtype="float32"):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype), attn_implementation="eager")
    return model.eval()


def logits_of(model, input_ids, out):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor(input_ids, dtype=torch.long)).logits
    save_file({"logits": logits.float().contiguous()}, out)


def peft_logits(job):
    from peft import PeftModel

    base = load_model(job["base_dir"], job.get("dtype", "float32"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(base, job["adapter_dir"]).eval()
    adapted = sorted({name.rsplit(".lora_", 1)[0] for name, _ in model.named_parameters() if ".lora_A." in name})
    logits_of(model, job["input_ids"], job["out"])
    return {"adapted_modules": len(adapted), "warnings": [str(w.message) for w in caught if "adapter" in str(w.message).lower()]}


def plain_logits(job):
    from transformers import AutoModelForCausalLM

    model, info = AutoModelForCausalLM.from_pretrained(
        job["model_dir"], dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    logits_of(model.eval(), job["input_ids"], job["out"])
    return {"missing": sorted(info["missing_keys"]), "unexpected": sorted(info["unexpected_keys"])}


def train_tokenizer(job):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=job["vocab_size"], special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(job["texts"], trainer)
    os.makedirs(job["dir"], exist_ok=True)
    tokenizer.save(os.path.join(job["dir"], "tokenizer.json"))
    with open(os.path.join(job["dir"], "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
                   "chat_template": job["chat_template"]}, f)
    return {"vocab_size": tokenizer.get_vocab_size()}


def main():
    request = json.load(sys.stdin)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    handlers = {"peft_logits": peft_logits, "logits": plain_logits, "tokenizer": train_tokenizer}
    print(json.dumps({"results": [handlers[job["kind"]](job) for job in request["jobs"]]}))


if __name__ == "__main__":
    main()
