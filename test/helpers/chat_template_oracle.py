"""
Oracle for test/chat-template.test.ts (Python transformers 5.17 and tiktoken; test only).

Reads one JSON request on stdin, prints one JSON answer as the last stdout line. Requests:
  {"cmd": "render", "jobs": [{"template": JINJA, "conversations": [[{role, content}...]...], "add_generation_prompt": B,
   "variables": {...}}...]}
      transformers' own chat-template renderer (render_jinja_template: its sandboxed jinja2 environment with
      trim_blocks/lstrip_blocks and its globals): per job, one string per conversation
  {"cmd": "moonlight_ranks", "path": FILE, "count": N}
      writes a synthetic tiktoken rank file of exactly N ranks: the 256 single bytes (ranks 0..255), then every pair
      of printable ASCII characters, then lowercase triples and quadruples, until N; so with N = 163584 the special
      tokens numbered from len(ranks) get Moonlight's real ids ([BOS] 163584, <|im_end|> 163586, …)
"""
import base64
import itertools
import json
import string
import sys


def render(request):
    from transformers.utils.chat_template_utils import render_jinja_template

    results = []
    for job in request["jobs"]:
        rendered, _generation_indices = render_jinja_template(
            conversations=job["conversations"],
            chat_template=job["template"],
            add_generation_prompt=job["add_generation_prompt"],
            **job.get("variables", {}),
        )
        results.append(rendered)
    return results


def moonlight_ranks(request):
    count = request["count"]
    printable = [c.encode() for c in string.printable[:95]]
    lower = [c.encode() for c in string.ascii_lowercase]

    def tokens():
        for b in range(256):
            yield bytes([b])
        for pair in itertools.product(printable, repeat=2):
            yield b"".join(pair)
        for n in (3, 4):
            for combo in itertools.product(lower, repeat=n):
                yield b"".join(combo)

    seen = set()
    lines = []
    for token in tokens():
        if len(lines) == count:
            break
        if token in seen:
            continue
        seen.add(token)
        lines.append(f"{base64.b64encode(token).decode()} {len(lines)}\n")
    assert len(lines) == count, len(lines)
    with open(request["path"], "w") as f:
        f.writelines(lines)
    return {"ranks": len(lines)}


def main():
    request = json.loads(sys.stdin.read())
    handlers = {"render": render, "moonlight_ranks": moonlight_ranks}
    print(json.dumps(handlers[request["cmd"]](request)))


if __name__ == "__main__":
    main()
