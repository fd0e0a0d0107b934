#!/usr/bin/env python3
"""HF parity of a thinkstream checkpoint (not run in CI).

Opens a checkpoint directory (one the trainer or `thinkstream sft` wrote) with transformers'
AutoTokenizer and AutoModelForCausalLM, and compares with thinkstream's own reading of it
(`thinkstream bench hf-reference`): the tokenizer must encode a synthetic problem (prompt with
its strategy tag, then the gold solution) to our ids and decode them back to the text, and the
logits must equal ours to 1e-4. Prints one JSON line; exits 1 when a check fails.

    python3 -m venv .venv && .venv/bin/pip install torch transformers
    ./mvnw -B -ntp -q -pl app -am package -DskipTests
    .venv/bin/python bench/hf-parity/hf_parity.py --checkpoint OUT/v3 --jar app/target/thinkstream.jar
"""
import argparse
import json
import subprocess
import sys

import torch
import transformers
from packaging.version import Version
from transformers import AutoModelForCausalLM, AutoTokenizer

# transformers 4.56 renamed from_pretrained's torch_dtype to dtype (the old name warns from 5 on)
DTYPE_ARG = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--jar", default="app/target/thinkstream.jar")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()

    ours = json.loads(subprocess.run(
        ["java", "-jar", a.jar, "bench", "hf-reference", "--checkpoint", a.checkpoint, "--seed", str(a.seed)],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])

    tok = AutoTokenizer.from_pretrained(a.checkpoint)
    ids = tok(ours["text"], add_special_tokens=False)["input_ids"]
    if ours["bos_id"] >= 0:
        ids = [ours["bos_id"]] + ids  # thinkstream places <bos> itself, as every sequence starts
    ids_equal = ids == ours["ids"]
    decodes = tok.decode(ours["ids"][1 if ours["bos_id"] >= 0 else 0:], skip_special_tokens=False) == ours["text"]

    model = AutoModelForCausalLM.from_pretrained(a.checkpoint, **{DTYPE_ARG: torch.float32})
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([ours["ids"]])).logits[0]  # (T, V)
    theirs = logits.reshape(-1)
    mine = torch.tensor(ours["logits"], dtype=torch.float32)
    max_diff = (theirs - mine).abs().max().item() if theirs.numel() == mine.numel() else float("inf")
    ok = ids_equal and decodes and max_diff <= a.tolerance
    print(json.dumps({"checkpoint": a.checkpoint, "tokens": len(ours["ids"]), "ids_equal": ids_equal,
                      "decodes_to_text": decodes, "max_logit_abs_diff": max_diff, "tolerance": a.tolerance,
                      "transformers": transformers.__version__, "ok": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
