"""PyTorch-eager twin of thinkstream's policy and of `thinkstream bench model`'s sampling loop.

The same Llama architecture as model/src/main/java/io/thinkstream/model/Transformer.java and
internal/*: RMSNorm, RoPE from explicit position ids ("rotate half" layout), grouped-query
attention as matmul + additive mask + softmax (queries grouped by their kv head), SwiGLU, tied
embeddings. Weights come from a thinkstream checkpoint (config.json + model.safetensors with
Hugging Face Llama names, as Checkpoints.save writes them), parsed here with struct and
torch.frombuffer so nothing but torch is needed.

The sampling loop is the benchmark's: batch 8, prompt 32, 128 new tokens, temperature 1, no
filter, no early stop, a KV cache preallocated for prompt + new tokens and written in place, the LM
head on the last position only, one multinomial draw per row and step, gradients off.

Run alone:   python bench/twin.py --checkpoint DIR [--threads N] [--repeats 3]
Run served:  python bench/twin.py --checkpoint DIR --serve   (one timed run per "run" line on
             stdin, one JSON line per run on stdout; `thinkstream bench model --vs-pytorch` drives it)
The last line printed is one JSON object.
"""

import argparse
import json
import math
import os
import re
import struct
import sys
import time

import torch
import torch.nn.functional as F

HIDDEN = -1e9  # Masks.HIDDEN: finite, so a row with no visible key stays finite

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).to(torch.float32)
    return out


class Llama:
    """The decoder over a state dict with HF LlamaForCausalLM names."""

    def __init__(self, config, weights):
        self.c = config
        self.w = weights
        self.nh = config["num_attention_heads"]
        self.nkv = config.get("num_key_value_heads", self.nh)
        self.hs = config["hidden_size"] // self.nh
        self.eps = config["rms_norm_eps"]
        self.layers = config["num_hidden_layers"]
        self.lm_head = weights["model.embed_tokens.weight"] if config.get("tie_word_embeddings") else weights["lm_head.weight"]
        half = self.hs // 2
        self.inv_freq = 1.0 / (config.get("rope_theta", 10000.0) ** (torch.arange(0, half, dtype=torch.float32) * 2 / self.hs))

    def rms(self, x, weight):  # x: (B, T, C)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight  # (B, T, C)

    def rope(self, positions):  # positions: (B, T)
        angle = positions.to(torch.float32).unsqueeze(-1) * self.inv_freq  # (B, T, hs/2)
        return angle.cos().unsqueeze(1), angle.sin().unsqueeze(1)  # 2 x (B, 1, T, hs/2)

    @staticmethod
    def rotate(x, cos, sin):  # x: (B, n, T, hs)
        x1, x2 = x.chunk(2, dim=-1)  # 2 x (B, n, T, hs/2)
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)  # (B, n, T, hs)

    def forward(self, tokens, positions, mask, cache, start):
        """Logits (B, V) of the last column for tokens (B, T) written at cache columns [start, start+T)."""
        b, t = tokens.shape
        s = start + t
        nh, nkv, hs, g = self.nh, self.nkv, self.hs, self.nh // self.nkv
        cos, sin = self.rope(positions)
        x = F.embedding(tokens, self.w["model.embed_tokens.weight"])  # (B, T, C)
        for i in range(self.layers):
            p = f"model.layers.{i}."
            h = self.rms(x, self.w[p + "input_layernorm.weight"])  # (B, T, C)
            q = F.linear(h, self.w[p + "self_attn.q_proj.weight"]).view(b, t, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
            k = F.linear(h, self.w[p + "self_attn.k_proj.weight"]).view(b, t, nkv, hs).transpose(1, 2)  # (B, nkv, T, hs)
            v = F.linear(h, self.w[p + "self_attn.v_proj.weight"]).view(b, t, nkv, hs).transpose(1, 2)  # (B, nkv, T, hs)
            q, k = self.rotate(q, cos, sin), self.rotate(k, cos, sin)
            keys, values = cache[i]
            keys[:, :, start:s] = k
            values[:, :, start:s] = v
            k, v = keys[:, :, :s], values[:, :, :s]  # (B, nkv, S, hs)
            qg = q.reshape(b, nkv, g * t, hs)  # (B, nkv, g*T, hs)
            att = (qg @ k.transpose(2, 3)) * (1.0 / math.sqrt(hs))  # (B, nkv, g*T, S)
            att = (att.view(b, nkv, g, t, s) + mask.unsqueeze(1)).softmax(-1).view(b, nkv, g * t, s)  # (B, nkv, g*T, S)
            y = (att @ v).view(b, nh, t, hs).transpose(1, 2).reshape(b, t, nh * hs)  # (B, T, C)
            x = x + F.linear(y, self.w[p + "self_attn.o_proj.weight"])  # (B, T, C)
            h = self.rms(x, self.w[p + "post_attention_layernorm.weight"])  # (B, T, C)
            gate = F.linear(h, self.w[p + "mlp.gate_proj.weight"])  # (B, T, F)
            up = F.linear(h, self.w[p + "mlp.up_proj.weight"])  # (B, T, F)
            x = x + F.linear(F.silu(gate) * up, self.w[p + "mlp.down_proj.weight"])  # (B, T, C)
        last = self.rms(x[:, -1], self.w["model.norm.weight"])  # (B, C)
        return F.linear(last, self.lm_head)  # (B, V)


def prompts(batch, length, vocab):
    g = torch.Generator().manual_seed(7)
    return torch.randint(4, vocab, (batch, length), generator=g)  # (B, P)


@torch.inference_mode()
def sample(model, prompt, new_tokens, seed):
    """Temperature-1 sampling with a KV cache; every row makes exactly new_tokens tokens."""
    b, p = prompt.shape
    width = p + new_tokens
    cache = [(torch.zeros(b, model.nkv, width, model.hs), torch.zeros(b, model.nkv, width, model.hs))
             for _ in range(model.layers)]
    g = torch.Generator().manual_seed(seed)
    causal = torch.full((p, p), HIDDEN).triu(1)  # (P, P)
    mask = causal.expand(b, 1, p, p)  # (B, 1, P, P)
    positions = torch.arange(p).expand(b, p)  # (B, P)
    logits = model.forward(prompt, positions, mask, cache, 0)  # (B, V)
    step_mask = torch.zeros(b, 1, 1, width)  # (B, 1, 1, W)  no padding: every filled column visible
    out = torch.empty(b, new_tokens, dtype=torch.long)
    for t in range(new_tokens):
        token = torch.multinomial(logits.softmax(-1), 1, generator=g)  # (B, 1)
        out[:, t] = token[:, 0]
        if t == new_tokens - 1:
            break
        pos = torch.full((b, 1), p + t)  # (B, 1)
        logits = model.forward(token, pos, step_mask[..., :p + t + 1], cache, p + t)  # (B, V)
    return out


def timed(model, prompt, new_tokens, seed):
    t0 = time.perf_counter()
    sample(model, prompt, new_tokens, seed)
    return prompt.shape[0] * new_tokens / (time.perf_counter() - t0)


def blas():
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True, help="directory with config.json and model.safetensors")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=30, help="untimed runs first (the Java side's JIT needs 20-30)")
    ap.add_argument("--serve", action="store_true", help="one timed run per 'run' line on stdin")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    with open(os.path.join(a.checkpoint, "config.json")) as f:
        config = json.load(f)
    model = Llama(config, read_safetensors(os.path.join(a.checkpoint, "model.safetensors")))
    prompt = prompts(a.batch, a.prompt, config["vocab_size"])
    log = sys.stderr if a.serve else sys.stdout
    print(torch.__config__.show(), file=log)
    print(f"torch {torch.__version__}, {blas()}, intra-op threads {torch.get_num_threads()}, "
          f"inter-op threads {torch.get_num_interop_threads()}", file=log)
    for _ in range(a.warmup):
        timed(model, prompt, a.new_tokens, 0)  # warm-up: allocator, kernels
    head = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas()}
    if a.serve:
        print(json.dumps(dict(head, ready=True)), flush=True)
        for line in sys.stdin:
            if line.strip() != "run":
                break
            print(json.dumps(dict(head, tokens_per_s=round(timed(model, prompt, a.new_tokens, 1), 1))), flush=True)
        return
    runs = [timed(model, prompt, a.new_tokens, 1) for _ in range(a.repeats)]
    for r in runs:
        print(f"pytorch eager sampling with KV cache: {r:.1f} tokens/s")
    print(json.dumps(dict(head, tokens_per_s=round(max(runs), 1), runs=[round(r, 1) for r in runs])))


if __name__ == "__main__":
    main()
