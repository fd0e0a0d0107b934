"""PyTorch-eager twin of thinkstream's policy and of `thinkstream bench model`'s sampling and training loops.

The same Llama architecture as model/src/main/java/io/thinkstream/model/Transformer.java and
internal/*: RMSNorm, RoPE from explicit position ids ("rotate half" layout), grouped-query
attention as matmul + additive mask + softmax (queries grouped by their kv head), SwiGLU, tied
embeddings. Weights come from a thinkstream checkpoint (config.json + model.safetensors with
Hugging Face Llama names, as Checkpoints.save writes them), parsed here with struct and
torch.frombuffer so nothing but torch is needed.

The sampling loop is the benchmark's: batch 8, prompt 32, 128 new tokens, temperature 1, no
filter, no early stop, a KV cache preallocated for prompt + new tokens and written in place, the LM
head on the last position only, one multinomial draw per row and step, gradients off.

The training step is ModelBench.trainTokensPerSecond's: batch 8 x 256, one segment per row (the
causal mask and the position ids built from the segment ids every step, as Masks does), weighted
next-token cross entropy over every trained token, backward, global-norm clipping to 1.0 and
AdamW (lr 1e-4 with one warm-up step then cosine, betas (0.9, 0.95), eps 1e-8, decoupled decay
0.01 on every matrix but the embedding, none on the norms and the embedding: the trainer's
defaults and its AdamW's groups), timed over 20 steps after one warm-up step. It is written as a
user would: nn.Parameter leaves, F.cross_entropy, F.silu, torch.optim.AdamW with its defaults and
LambdaLR; the layer code is the same as the sampling loop's.

Run alone:   python bench/twin.py --checkpoint DIR [--threads N] [--repeats 3]
Run served:  python bench/twin.py --checkpoint DIR --serve   (one timed run per "run" (sampling)
             or "train" (training) line on stdin, one JSON line per run on stdout;
             `thinkstream bench model --vs-pytorch` drives it)
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
        self.w = {name: torch.nn.Parameter(w) for name, w in weights.items()}  # leaves: the training step updates them
        weights = self.w
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

    def hidden(self, tokens, positions, mask, cache=None, start=0):
        """The residual stream (B, T, C) for tokens (B, T); with a cache, written at columns [start, start+T)."""
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
            if cache is not None:
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
        return x

    def forward(self, tokens, positions, mask, cache, start):
        """Logits (B, V) of the last column for tokens (B, T) written at cache columns [start, start+T)."""
        x = self.hidden(tokens, positions, mask, cache, start)  # (B, T, C)
        last = self.rms(x[:, -1], self.w["model.norm.weight"])  # (B, C)
        return F.linear(last, self.lm_head)  # (B, V)

    def logits(self, tokens, positions, mask):
        """Logits (B, T, V) of every position, no cache: the training forward pass."""
        x = self.rms(self.hidden(tokens, positions, mask), self.w["model.norm.weight"])  # (B, T, C)
        return F.linear(x, self.lm_head)  # (B, T, V)



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


def train_batch(batch, width, vocab):
    """ModelBench's training batch: random tokens and targets, one segment per row, every weight 1."""
    g = torch.Generator().manual_seed(3)
    tokens = torch.randint(0, vocab, (batch, width), generator=g)  # (B, T)
    targets = torch.randint(0, vocab, (batch, width), generator=g)  # (B, T)
    segments = torch.ones(batch, width, dtype=torch.long)  # (B, T)
    weights = torch.ones(batch, width)  # (B, T)
    return tokens, segments, targets, weights


def layout(segments):
    """Masks.positions and Masks.causal: positions restart at each segment, padding (0) sees nothing."""
    b, t = segments.shape
    index = torch.arange(t).expand(b, t)  # (B, T)
    starts = torch.ones_like(segments, dtype=torch.bool)  # (B, T)
    starts[:, 1:] = segments[:, 1:] != segments[:, :-1]
    first = torch.where(starts, index, 0).cummax(1).values  # (B, T)  where each position's segment starts
    positions = torch.where(segments != 0, index - first, 0)  # (B, T)
    causal = torch.ones(t, t, dtype=torch.bool).tril()  # (T, T)
    visible = causal & (segments.unsqueeze(2) == segments.unsqueeze(1)) & (segments != 0).unsqueeze(1)  # (B, T, T)
    mask = torch.zeros(b, 1, t, t).masked_fill(~visible.unsqueeze(1), HIDDEN)  # (B, 1, T, T)
    return positions, mask


def schedule(peak, warmup, total):
    """LmTrainer.Schedule: linear warm-up, then cosine decay to 10%, by update count."""
    def lr(n):
        if n < warmup:
            return peak * (n + 1) / warmup
        progress = min(1.0, (n - warmup) / max(1, total - warmup))
        return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
    return lr


class Training:
    """The bench's training step: forward, weighted next-token cross entropy, backward, clip, AdamW."""

    def __init__(self, model, batch, width, steps, lr=1e-4, weight_decay=0.01, clip=1.0):
        self.model = model
        self.steps = steps
        self.clip = clip
        self.batch = train_batch(batch, width, model.c["vocab_size"])
        params = list(model.w.values())
        exempt = [w for name, w in model.w.items() if name.endswith("norm.weight") or name == "model.embed_tokens.weight"]
        decay = [w for w in params if all(w is not e for e in exempt)]
        self.params = params
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                      {"params": exempt, "weight_decay": 0.0}],
                                     lr=lr, betas=(0.9, 0.95), eps=1e-8)
        lr_at = schedule(lr, 1, steps + 2)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lambda n: lr_at(n) / lr)

    def step(self):
        tokens, segments, targets, weights = self.batch
        positions, mask = layout(segments)  # (B, T), (B, 1, T, T)
        logits = self.model.logits(tokens, positions, mask)  # (B, T, V)
        nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")  # (B*T)
        loss = (nll * weights.flatten()).sum() / weights.sum()  # ()
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.opt.step()
        self.sched.step()
        return loss.item()

    def timed(self):
        """Train tokens/s over `steps` steps, after one untimed step (as ModelBench times it)."""
        with torch.enable_grad():
            self.step()
            t0 = time.perf_counter()
            for _ in range(self.steps):
                self.step()
            seconds = time.perf_counter() - t0
        tokens = self.batch[0]
        return self.steps * tokens.numel() / seconds


def timed(model, prompt, new_tokens, seed, generations=1):
    """Tokens/s over `generations` back-to-back sampling runs."""
    t0 = time.perf_counter()
    for _ in range(generations):
        sample(model, prompt, new_tokens, seed)
    return generations * prompt.shape[0] * new_tokens / (time.perf_counter() - t0)


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
    ap.add_argument("--train-width", type=int, default=256, help="training row width (tokens per row)")
    ap.add_argument("--train-steps", type=int, default=20, help="timed training steps per run (after one untimed)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--generations", type=int, default=1, help="generations per timed sampling run")
    ap.add_argument("--warmup", type=int, default=30, help="untimed runs first (the Java side's JIT needs 20-30)")
    ap.add_argument("--serve", action="store_true", help="one timed run per 'run' or 'train' line on stdin")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    with open(os.path.join(a.checkpoint, "config.json")) as f:
        config = json.load(f)
    model = Llama(config, read_safetensors(os.path.join(a.checkpoint, "model.safetensors")))
    prompt = prompts(a.batch, a.prompt, config["vocab_size"])
    training = Training(model, a.batch, a.train_width, a.train_steps)
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
            command = line.strip()
            if command == "run":
                print(json.dumps(dict(head, tokens_per_s=round(timed(model, prompt, a.new_tokens, 1, a.generations), 1))), flush=True)
            elif command == "train":
                print(json.dumps(dict(head, train_tokens_per_s=round(training.timed(), 1))), flush=True)
            else:
                break
        return
    runs = [timed(model, prompt, a.new_tokens, 1, a.generations) for _ in range(a.repeats)]
    for r in runs:
        print(f"pytorch eager sampling with KV cache: {r:.1f} tokens/s")
    train = [training.timed() for _ in range(a.repeats)]
    for r in train:
        print(f"pytorch eager training: {r:.1f} tokens/s")
    print(json.dumps(dict(head, tokens_per_s=round(max(runs), 1), runs=[round(r, 1) for r in runs],
                          train_tokens_per_s=round(max(train), 1), train_runs=[round(r, 1) for r in train])))


if __name__ == "__main__":
    main()
