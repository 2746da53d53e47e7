#!/usr/bin/python3
"""The MemGen training step in PyTorch, the side-by-side anchor for `memgen bench train`.

Same networks as docs/science.md §1 (bias-free BF-CNN and bias-free UNet with bias-free batch norm),
same loss (residual prediction, sum over pixels averaged over the batch), Adam, one noise level
sigma = u^2 per image. A step = noise sampling, forward, loss, backward, Adam update. Random images
in [0,1] stand in for data (content does not change the cost). Prints one JSON object on stdout.

Run with Debian's interpreter (/usr/bin/python3, package python3-torch). The script re-executes
itself with the glibc malloc settings from ENGINE_NOTES (no mmap, no trimming) unless they are
already set: without them every step pays for first touches of freshly mapped pages (3-7x slower).
"""
import argparse
import json
import os
import resource
import sys
import time

MALLOC_TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"

if os.environ.get("GLIBC_TUNABLES") is None and os.environ.get("MEMGEN_BENCH_NO_REEXEC") is None:
    env = dict(os.environ, GLIBC_TUNABLES=MALLOC_TUNABLES, MEMGEN_BENCH_NO_REEXEC="1")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import torch  # noqa: E402  (after the re-exec on purpose)
from torch import nn  # noqa: E402


class BiasFreeBatchNorm(nn.Module):
    """docs/science.md §1: no mean subtraction, no additive term; train divides by the batch sd, eval by running sd."""

    def __init__(self, channels):
        super().__init__()
        gamma = (torch.randn(1, channels, 1, 1) * (2.0 / 9.0 / 64.0)).clamp(-0.025, 0.025)
        self.gamma = nn.Parameter(gamma)
        self.register_buffer("running_sd", torch.ones(1, channels, 1, 1))

    def forward(self, x):
        if self.training:
            sd = torch.sqrt(x.var(dim=(0, 2, 3), keepdim=True, unbiased=False) + 1e-5)
            with torch.no_grad():
                self.running_sd.mul_(0.9).add_(0.1 * sd)
        else:
            sd = self.running_sd
        return x / sd * self.gamma


def conv3x3(cin, cout):
    conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    return conv


class BfCnn(nn.Module):
    """conv(C->K)+ReLU, (L-2) x [conv(K->K), BF-BN, ReLU], conv(K->C). Predicts the residual."""

    def __init__(self, layers, width, channels=1):
        super().__init__()
        body = [conv3x3(channels, width), nn.ReLU(inplace=True)]
        for _ in range(layers - 2):
            body += [conv3x3(width, width), BiasFreeBatchNorm(width), nn.ReLU(inplace=True)]
        body.append(conv3x3(width, channels))
        self.body = nn.Sequential(*body)

    def forward(self, y):
        return self.body(y)


def block(cin, cout, first_without_bn=False):
    """Two [conv 3x3, BF-BN, ReLU] layers (the very first conv of the UNet has no BN)."""
    layers = [conv3x3(cin, cout)]
    if not first_without_bn:
        layers.append(BiasFreeBatchNorm(cout))
    layers += [nn.ReLU(inplace=True), conv3x3(cout, cout), BiasFreeBatchNorm(cout), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class BiasFreeUnet(nn.Module):
    """B encoder blocks (width K*2^b), a mid block (2*K*2^(B-1)), B decoder blocks; 2x2 average pooling
    down, 2x2 stride-2 transposed conv up, skips by channel concatenation; the last conv (K->C) is linear."""

    def __init__(self, blocks, width, channels=1):
        super().__init__()
        widths = [width * 2 ** b for b in range(blocks)]
        self.encoders = nn.ModuleList(
            block(channels if b == 0 else widths[b - 1], widths[b], first_without_bn=b == 0) for b in range(blocks))
        mid = 2 * widths[-1]
        self.mid = block(widths[-1], mid)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        below = mid
        for b in reversed(range(blocks)):
            up = nn.ConvTranspose2d(below, widths[b], 2, stride=2, bias=False)
            nn.init.kaiming_normal_(up.weight, mode="fan_in", nonlinearity="relu")
            self.ups.append(up)
            if b == 0:
                dec = nn.Sequential(conv3x3(2 * widths[b], widths[b]), BiasFreeBatchNorm(widths[b]),
                                    nn.ReLU(inplace=True), conv3x3(widths[b], channels))
            else:
                dec = block(2 * widths[b], widths[b])
            self.decoders.append(dec)
            below = widths[b]
        self.pool = nn.AvgPool2d(2)

    def forward(self, y):
        skips = []
        x = y
        for enc in self.encoders:
            x = enc(x)
            skips.append(x)
            x = self.pool(x)
        x = self.mid(x)
        for up, dec, skip in zip(self.ups, self.decoders, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        return x


def parse_model(spec):
    """'bfcnn:layers=17,width=64' or 'unet:blocks=2,width=64'."""
    kind, _, rest = spec.partition(":")
    params = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
    try:
        params = {k: int(v) for k, v in params.items()}
    except ValueError:
        sys.exit(f"train_step.py: --model {spec}: parameters must be integers")
    if kind == "bfcnn":
        return BfCnn(params.get("layers", 17), params.get("width", 64))
    if kind == "unet":
        return BiasFreeUnet(params.get("blocks", 2), params.get("width", 64))
    sys.exit(f"train_step.py: --model {spec}: unknown architecture '{kind}' (bfcnn or unet)")


def conv_flops_per_step(model, size, batch):
    """Direct-convolution FLOPs of one step: 3 x forward (forward, backward-data, backward-weights),
    the convention of `memgen bench conv` / `bench train`."""
    total = 0
    hooks = []

    def hook(module, inputs, output):
        nonlocal total
        w = module.weight
        if isinstance(module, nn.ConvTranspose2d):
            total += 2 * inputs[0].numel() * w.shape[1] * w.shape[2] * w.shape[3]
        else:
            total += 2 * output.numel() * w.shape[1] * w.shape[2] * w.shape[3]

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.zeros(batch, 1, size, size))
    for h in hooks:
        h.remove()
    return 3 * total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="bfcnn:layers=17,width=64")
    ap.add_argument("--size", type=int, default=40)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the GPU run of `memgen bench train --device cuda`)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "tf32"],
                    help="fp32: no TF32 anywhere (MemGen's default); tf32: TF32 tensor cores for convolutions and matmuls")
    args = ap.parse_args()
    if args.size < 4 or args.batch < 1 or args.steps < 1 or args.warmup < 0:
        sys.exit("train_step.py: --size >= 4, --batch >= 1, --steps >= 1, --warmup >= 0 required")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit("train_step.py: --device cuda: PyTorch sees no CUDA device")
        # Same precision as MemGen's --precision, and cuDNN's algorithm search as MemGen's cudnnFind per shape.
        torch.backends.cudnn.allow_tf32 = args.precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
        torch.backends.cudnn.benchmark = True
    elif args.precision != "fp32":
        sys.exit("train_step.py: --precision tf32 needs --device cuda")
    model = parse_model(args.model)
    flops = conv_flops_per_step(model, args.size, args.batch)
    model = model.to(device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    images = torch.rand(args.batch, 1, args.size, args.size, device=device)

    def step():
        u = torch.rand(args.batch, 1, 1, 1, device=device)
        noise = u * u * torch.randn_like(images)  # sigma = u^2 per image
        residual = model(images + noise)
        loss = (residual - noise).pow(2).sum() / args.batch
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss)  # waits for the GPU, as MemGen's step does when it reads its loss

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    print(json.dumps({
        "engine": "pytorch",
        "device": str(device) if device.type == "cpu" else f"{device} ({torch.cuda.get_device_name(device)})",
        "precision": args.precision,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
        "model": args.model,
        "parameters": sum(p.numel() for p in model.parameters()),
        "size": args.size,
        "batch": args.batch,
        "warmup": args.warmup,
        "steps": args.steps,
        "step_ms_median": round(median, 2),
        "step_ms_min": round(times[0], 2),
        "images_per_s": round(args.batch / (median / 1e3), 2),
        "gflops_per_s": round(flops / 1e9 / (median / 1e3), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
