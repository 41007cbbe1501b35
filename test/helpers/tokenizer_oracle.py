"""
Tokenizer oracle for test/tokenizers.test.ts (Python `tokenizers` 0.23.2 and `tiktoken` 0.14.0; test only).

Reads one JSON request on stdin, prints one JSON answer as the last stdout line. Requests:
  {"cmd": "train", "dir": D, "corpus": TEXT}
      trains small tokenizers on TEXT and writes them under D:
        D/qwen2/tokenizer.json (+ tokenizer_config.json)   ByteLevel BPE, Qwen2's split regex, NFC, <|endoftext|>
        D/llama3/tokenizer.json (+ tokenizer_config.json)  ByteLevel BPE, Llama 3's regex, BOS post-processor
        D/metaspace/tokenizer.json (+ config)              SentencePiece-style BPE: Metaspace, byte fallback
        D/ranks.tiktoken                                   the qwen2 vocabulary as tiktoken rank lines
  {"cmd": "hf", "path": tokenizer.json, "texts": [...]}
      ids without special tokens added (our encode adds no BOS/EOS), and decode(ids) of each
  {"cmd": "tiktoken", "ranks": FILE, "pat_str": P, "special_tokens": {...}, "texts": [...]}
      tiktoken.Encoding(...).encode(text, allowed_special="all") and decode(ids) of each, plus n_vocab
  {"cmd": "named_tiktoken", "ranks_json": FILE, "texts": [...]}
      like "tiktoken" for npm tiktoken's own encoders/<name>.json (its compressed "! offset b64 b64 ..." lines)
  {"cmd": "moonlight", "ranks": FILE, "added_tokens_decoder": {...}, "eos_token": T, "texts": [...]}
      Moonlight's TikTokenTokenizer (tokenization_moonshot.py) rebuilt on Python tiktoken: its pat_str, 256 + 2
      specials from len(ranks), and encode's 400,000 / 25,000 character splitting; ids, decode, n_vocab, eos id
  {"cmd": "split", "text": T, "max_chunk": C, "max_run": R}
      the pieces TikTokenTokenizer.encode hands to tiktoken (its constants 400,000 / 25,000 replaced by C / R)
  {"cmd": "isspace"}
      every code point whose str.isspace() is true
"""
import base64
import json
import os
import sys

# Qwen2's and Llama 3's pre-tokenizer regexes as published in their tokenizer.json files.
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def train(request):
    from tokenizers import Tokenizer, Regex, models, trainers, pre_tokenizers, decoders, normalizers, processors

    out = request["dir"]
    corpus = request["corpus"]
    lines = corpus.split("\n")

    def byte_level(pattern, specials):
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=700,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(lines, trainer)
        return tok

    def save(tok, name, config):
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        tok.save(os.path.join(folder, "tokenizer.json"))
        if config is not None:
            with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
                json.dump(config, f)

    # Qwen2: NFC normaliser, specials after the BPE vocabulary (trainer puts them first; order does not matter here).
    qwen = byte_level(QWEN2_PATTERN, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    qwen.normalizer = normalizers.NFC()
    qwen.post_processor = processors.ByteLevel(trim_offsets=False)
    save(qwen, "qwen2", {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": None})
    # Same vocabulary without a config: EOS must be found by lookup (<|endoftext|>).
    save(qwen, "qwen2-noconfig", None)

    llama = byte_level(LLAMA3_PATTERN, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"])
    bos = llama.token_to_id("<|begin_of_text|>")
    llama.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B", special_tokens=[("<|begin_of_text|>", bos)]
    )
    save(llama, "llama3", {"eos_token": {"content": "<|end_of_text|>", "special": True}, "bos_token": "<|begin_of_text|>"})

    # SentencePiece-style (Llama 2 / Mistral tokenizer.json layout): Metaspace-like normaliser, byte fallback.
    sp = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    sp.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    sp.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    sp_trainer = trainers.BpeTrainer(
        vocab_size=900, special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens, show_progress=False
    )
    sp.train_from_iterator(lines, sp_trainer)
    save(sp, "metaspace", {"eos_token": "</s>", "bos_token": "<s>", "unk_token": "<unk>"})

    # The Qwen2 vocabulary as tiktoken rank lines: bytes of each non-special token, ranks renumbered 0..N-1 in id
    # order (the trainer numbers tokens in merge order, so every merged token's parts rank lower than it).
    byte_decoder = {v: k for k, v in bytes_to_unicode().items()}
    specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
    vocab = sorted(((i, t) for t, i in qwen.get_vocab(with_added_tokens=False).items() if t not in specials))
    with open(os.path.join(out, "ranks.tiktoken"), "w") as f:
        for rank, (_, token) in enumerate(vocab):
            raw = bytes(byte_decoder[c] for c in token)
            f.write(f"{base64.b64encode(raw).decode()} {rank}\n")
    return {"qwen2_vocab": qwen.get_vocab_size(with_added_tokens=True), "ranks": len(vocab)}


def bytes_to_unicode():
    # GPT-2's printable mapping of the 256 byte values (the ByteLevel pre-tokenizer's alphabet).
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def hf(request):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(request["path"])
    results = []
    for text in request["texts"]:
        ids = tok.encode(text, add_special_tokens=False).ids
        results.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    # decode of arbitrary id slices (e.g. cutting a multi-byte character in two)
    decoded_slices = [tok.decode(ids, skip_special_tokens=False) for ids in request.get("decode", [])]
    token_ids = {token: tok.token_to_id(token) for token in request.get("tokens", [])}
    return {
        "results": results,
        "decoded_slices": decoded_slices,
        "token_ids": token_ids,
        "vocab_size": tok.get_vocab_size(with_added_tokens=True),
    }


def run_tiktoken(ranks, pat_str, special_tokens, texts, explicit_n_vocab=None):
    import tiktoken

    enc = tiktoken.Encoding(
        "oracle", pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens, explicit_n_vocab=explicit_n_vocab
    )
    results = []
    for text in texts:
        ids = enc.encode(text, allowed_special="all")
        results.append({"ids": ids, "decoded": enc.decode(ids)})
    return {"n_vocab": enc.n_vocab, "eot": enc.eot_token if "<|endoftext|>" in special_tokens else None, "results": results}


def tiktoken_file(request):
    ranks = read_rank_file(request["ranks"])
    return run_tiktoken(ranks, request["pat_str"], request["special_tokens"], request["texts"])


def named_tiktoken(request):
    # npm tiktoken's encoders/<name>.json: bpe_ranks holds lines "! <first rank> <b64> <b64> ..." (consecutive ranks).
    with open(request["ranks_json"]) as f:
        data = json.load(f)
    ranks = {}
    for line in data["bpe_ranks"].split("\n"):
        if not line:
            continue
        fields = line.split(" ")
        assert fields[0] == "!", fields[0]
        first = int(fields[1])
        for offset, token in enumerate(fields[2:]):
            ranks[base64.b64decode(token)] = first + offset
    return run_tiktoken(
        ranks, data["pat_str"], data["special_tokens"], request["texts"], data.get("explicit_n_vocab")
    )


# Moonlight's pat_str, copied alternative by alternative from tokenization_moonshot.py.
MOONLIGHT_PATTERN = "|".join(
    [
        r"""[\p{Han}]+""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


def split_whitespaces_or_nonwhitespaces(s, max_consecutive_slice_len):
    # As TikTokenTokenizer._split_whitespaces_or_nonwhitespaces.
    current_slice_len = 0
    current_slice_is_space = s[0].isspace() if len(s) > 0 else False
    slice_start = 0
    for i in range(len(s)):
        is_now_space = s[i].isspace()
        if current_slice_is_space ^ is_now_space:
            current_slice_len = 1
            current_slice_is_space = is_now_space
        else:
            current_slice_len += 1
            if current_slice_len > max_consecutive_slice_len:
                yield s[slice_start:i]
                slice_start = i
                current_slice_len = 1
    yield s[slice_start:]


def moonlight_pieces(text, max_chunk=400_000, max_run=25_000):
    # As TikTokenTokenizer.encode's substrs generator.
    return [
        piece
        for i in range(0, len(text), max_chunk)
        for piece in split_whitespaces_or_nonwhitespaces(text[i : i + max_chunk], max_run)
    ]


def split(request):
    return moonlight_pieces(request["text"], request["max_chunk"], request["max_run"])


def moonlight(request):
    import tiktoken

    ranks = read_rank_file(request["ranks"])
    mapping = {int(i): entry["content"] for i, entry in request["added_tokens_decoder"].items()}
    n = len(ranks)
    special_tokens = {mapping.get(i, f"<|reserved_token_{i}|>"): i for i in range(n, n + 256 + 2)}
    enc = tiktoken.Encoding("tiktoken.model", pat_str=request.get("pat_str", MOONLIGHT_PATTERN), mergeable_ranks=ranks, special_tokens=special_tokens)
    results = []
    for text in request["texts"]:
        ids = []
        for piece in moonlight_pieces(text):
            ids.extend(enc.encode(piece, allowed_special="all"))
        results.append({"ids": ids, "decoded": enc.decode(ids)})
    decoded_slices = [enc.decode(ids) for ids in request.get("decode", [])]
    return {
        "n_vocab": enc.n_vocab,
        "eos": special_tokens[request.get("eos_token", "[EOS]")],
        "special_tokens": special_tokens,
        "results": results,
        "decoded_slices": decoded_slices,
    }


def read_rank_file(path):
    ranks = {}
    with open(path, "rb") as f:
        for line in f.read().splitlines():
            if line:
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    return ranks


def isspace(request):
    return [c for c in range(0x110000) if chr(c).isspace()]


def main():
    request = json.loads(sys.stdin.read())
    handlers = {
        "train": train,
        "hf": hf,
        "tiktoken": tiktoken_file,
        "named_tiktoken": named_tiktoken,
        "moonlight": moonlight,
        "isspace": isspace,
        "split": split,
    }
    print(json.dumps(handlers[request["cmd"]](request)))


if __name__ == "__main__":
    main()
