"""Position read-out probe: how much absolute position can a frozen backbone's features give away?

Follows the PosENet experiment of Islam, Jia & Bruce (ICLR 2020, "How much position information do
CNNs encode?"): the multi-level features of a frozen backbone are resized to one grid (the stride-8
level's) and concatenated; a single k x k conv with *no padding* (so the read-out cannot invent
position itself), a sigmoid and an MSE loss learn to draw a position map from them; Spearman
correlation (SPC) and MAE on held-out images say how much position the features carry. The same
read-out on the raw pixels is the paper's "no backbone" control.

Targets (each drawn at the input size, then resized to the read-out's output size, bilinear with
antialiasing, values in [0, 1]):
  H   horizontal ramp, 0 at the left column to 1 at the right one;   V  the same top to bottom;
  G   a centred Gaussian, exp(-r^2 / (2 * 0.2^2)), r the distance to the centre in image sides;
  HS  horizontal stripes: `STRIPES` repeated 0 -> 1 ramps down the image (a sawtooth in y);
  VS  vertical stripes: the same across the image (a sawtooth in x).
The paper shows the stripes only as pictures of repeated gradient bands; the band count and the
sawtooth form are this file's reading of them.

SPC is computed per held-out image (scipy.stats.spearmanr over its pixels) and averaged over images;
a prediction whose range is below `CONSTANT_RANGE` (float32 rounding, e.g. a constant image through a
circular-padded net) has no ranking and counts as SPC 0. MAE is over all pixels of all held-out images.
The five read-outs are the five output channels of one conv: with a per-channel MSE and Adam's
per-parameter steps this is the same as training five read-outs separately.
"""

import os
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.stats import spearmanr

from ..errors import ConfigError, DatasetError

TARGETS = ('H', 'V', 'G', 'HS', 'VS')
STRIPES = 4
GAUSS_SIGMA = 0.2
CONSTANT_RANGE = 1e-5
IMAGE_EXTS = ('.jpg', '.jpeg', '.png')


def make_targets(h: int, w: int, out_size: tuple[int, int] | None = None) -> dict:
    """{name: (h, w) tensor in [0, 1]} for TARGETS, resized to `out_size` (oh, ow) when given."""
    y, x = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing='ij')
    maps = dict(
        H=x,
        V=y,
        G=torch.exp(-((x - 0.5) ** 2 + (y - 0.5) ** 2) / (2 * GAUSS_SIGMA**2)),
        HS=_sawtooth(y),
        VS=_sawtooth(x),
    )
    if out_size is not None and tuple(out_size) != (h, w):
        stack = torch.stack([maps[t] for t in TARGETS])[None]
        stack = F.interpolate(stack, size=tuple(out_size), mode='bilinear', align_corners=False, antialias=True)
        maps = dict(zip(TARGETS, stack[0].clamp(0, 1)))
    return maps


def _sawtooth(t):
    """STRIPES ramps 0 -> 1 over t in [0, 1] (the last sample of each band just below 1)."""
    return torch.remainder(t * STRIPES * (1 - 1e-6), 1.0)


def synthetic_inputs(
    size: Sequence[int],
    seed: int,
    n_noise_train: int = 24,
    n_noise_test: int = 8,
    greys: tuple[int, ...] = (32, 64, 96, 160, 192, 224),
) -> tuple[list, list]:
    """(train, test) lists of (kind, uint8 (3, h, w)) images: the paper's black / white / noise ones.

    Train: uniform-noise images and constant grey images; test: black (0), white (255) and other noise
    images. Every test image differs from every train image.
    """
    g = torch.Generator().manual_seed(seed)
    noise = [
        torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8) for _ in range(n_noise_train + n_noise_test)
    ]
    train = [('noise', im) for im in noise[:n_noise_train]]
    train += [('grey', torch.full((3, *size), v, dtype=torch.uint8)) for v in greys]
    test = [
        ('black', torch.zeros((3, *size), dtype=torch.uint8)),
        ('white', torch.full((3, *size), 255, dtype=torch.uint8)),
    ]
    test += [('noise', im) for im in noise[n_noise_train:]]
    return train, test


def natural_inputs(
    folder: str,
    size: Sequence[int],
    seed: int,
    test_fraction: float = 0.25,
    bgr: bool = False,
    max_images: int | None = None,
) -> tuple[list, list]:
    """(train, test) lists of ('natural', uint8 (3, h, w)) from the jpg / png images under `folder` (all, or
    `max_images` of them drawn with `seed`), resized to `size`."""
    import mmcv

    if not os.path.isdir(folder):
        raise DatasetError(f'--images {folder}: folder not found; expected a folder of jpg / png images')
    files = sorted(
        os.path.relpath(os.path.join(d, f), folder)
        for d, _, names in os.walk(folder)
        for f in names
        if f.lower().endswith(IMAGE_EXTS)
    )
    if len(files) < 2:
        raise DatasetError(
            f'--images {folder}: {len(files)} jpg / png images; expected at least 2 '
            '(one to train the read-out, one to test it)'
        )
    order = np.random.default_rng(seed).permutation(len(files))[:max_images]
    n_test = max(1, int(round(len(order) * test_fraction)))
    images = []
    for i in order:
        img = mmcv.imread(os.path.join(folder, files[i]), channel_order='bgr' if bgr else 'rgb')
        if img is None:
            raise DatasetError(f'{os.path.join(folder, files[i])}: cannot read the image')
        img = mmcv.imresize(img, (size[1], size[0]))
        images.append(('natural', torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)))
    return images[n_test:], images[:n_test]


def normalize(images, mean, std):
    """Float (n, 3, h, w) batch of uint8 images, normalised like the config's data_preprocessor."""
    x = torch.stack([im for _, im in images]).float()
    return (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)


@torch.no_grad()
def backbone_features(backbone, x, chunk=16):
    """Every level of `backbone(x)` resized (bilinear) to the stride-8 level's grid, concatenated."""
    backbone.eval()
    out = []
    for part in x.split(chunk):
        levels = backbone(part)
        levels = [levels] if torch.is_tensor(levels) else list(levels)
        grid = min((lv.shape[-2:] for lv in levels), key=lambda s: abs(s[0] - x.shape[-2] / 8))
        out.append(
            torch.cat(
                [
                    F.interpolate(lv, size=tuple(grid), mode='bilinear', align_corners=False)
                    if tuple(lv.shape[-2:]) != tuple(grid)
                    else lv
                    for lv in levels
                ],
                1,
            )
        )
    return torch.cat(out)


def probe_features(
    train_x, test_x, test_kinds, image_size, iters=200, kernel=3, padding=0, lr=1e-3, batch_size=8, seed=0
):
    """Train the read-out on `train_x` (n, c, h, w) features; SPC / MAE on `test_x`. Returns a dict."""
    mu = train_x.mean((0, 2, 3), keepdim=True)
    sd = train_x.std((0, 2, 3), keepdim=True)
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    train_x, test_x = (train_x - mu) / sd, (test_x - mu) / sd
    torch.manual_seed(seed)
    conv = nn.Conv2d(train_x.shape[1], len(TARGETS), kernel, padding=padding)
    nn.init.xavier_uniform_(conv.weight)
    nn.init.zeros_(conv.bias)
    # The conv as one matmul over unfolded windows: the features are frozen, so they are unfolded once, as
    # rows (image, output pixel) x (channel, kernel offset). One (batch * L, c*k*k) @ (c*k*k, 5) GEMM per step
    # is 5x faster on a CPU core than the same product over (c*k*k, L) slices (6 images of 960 channels on a
    # 14x30 grid: 30 vs 164 ms a step). Mini-batches are slices of one seeded shuffle of the images (a gather
    # per step costs as much as the matmul).
    g = torch.Generator().manual_seed(seed)
    rows, out_size = _unfold_rows(train_x[torch.randperm(len(train_x), generator=g)], kernel, padding)
    weight = conv.weight.detach().flatten(1).clone().requires_grad_(True)
    bias = conv.bias.detach().clone().requires_grad_(True)
    goal = torch.stack([make_targets(*image_size, out_size)[t] for t in TARGETS])
    opt = torch.optim.Adam([weight, bias], lr=lr, fused=True)
    batch = min(batch_size, len(rows))
    goal_rows = goal.flatten(1).T.repeat(batch, 1)  # (batch * L, 5)
    starts = list(range(0, len(rows) - batch + 1, batch))
    with _one_thread():
        for step in range(iters):
            if step % len(starts) == 0:
                order = torch.randperm(len(starts), generator=g).tolist()
            part = rows[starts[order[step % len(starts)]] :][:batch].flatten(0, 1)
            opt.zero_grad()
            loss = F.mse_loss(torch.sigmoid(part @ weight.T + bias), goal_rows)
            loss.backward()
            opt.step()
    with torch.no_grad():
        test_rows, _ = _unfold_rows(test_x, kernel, padding)
        pred = torch.sigmoid(test_rows @ weight.T + bias).transpose(1, 2).reshape(len(test_x), len(TARGETS), *out_size)
    goal = goal[None]
    metrics, by_input = {}, {}
    spc = np.array([[_spearman(p[i], goal[0, i]) for i in range(len(TARGETS))] for p in pred])
    mae = (pred - goal).abs().mean((2, 3)).numpy()
    for i, t in enumerate(TARGETS):
        metrics[f'probe/{t}_spc'] = float(spc[:, i].mean())
        metrics[f'probe/{t}_mae'] = float(mae[:, i].mean())
    for kind in dict.fromkeys(test_kinds):
        rows = [j for j, k in enumerate(test_kinds) if k == kind]
        by_input[kind] = {
            f'probe/{t}_{m}': float(a[rows, i].mean())
            for i, t in enumerate(TARGETS)
            for m, a in (('spc', spc), ('mae', mae))
        }
    return dict(metrics=metrics, by_input=by_input, train_loss=float(loss.detach()), out_size=list(out_size))


@contextmanager
def _one_thread():
    """The read-out's steps are a few small ops each: thread start-up and barriers cost more than they save
    (measured on 2 shared cores: 200 steps took 19 s with 2 threads, 7 s with 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _unfold_rows(x, kernel, padding):
    """(n, L, c * k * k) windows of x (n, c, h, w), one row per output pixel, and the (oh, ow) output size of
    the read-out conv."""
    oh, ow = (x.shape[-2] + 2 * padding - kernel + 1), (x.shape[-1] + 2 * padding - kernel + 1)
    if oh < 1 or ow < 1:
        raise ConfigError(
            f'read-out kernel {kernel} does not fit the {tuple(x.shape[-2:])} feature grid; '
            'use larger inputs (--size) or a smaller --kernel'
        )
    need, free = x.shape[0] * x.shape[1] * kernel * kernel * oh * ow * x.element_size(), _available_memory()
    if free is not None and need > free:  # refuse in one line rather than be killed for memory
        raise ConfigError(
            f'the read-out needs {need / 2**30:.1f} GiB for {x.shape[0]} images of {x.shape[1]} '
            f'channels on a {tuple(x.shape[-2:])} feature grid, {free / 2**30:.1f} GiB are available; '
            'expected a smaller probe size (--size, probe.size in a grid) or fewer images (--max-images)'
        )
    rows = x.new_empty(x.shape[0], oh * ow, x.shape[1] * kernel * kernel)
    for i in range(len(x)):  # image by image: no second full-size copy for the transpose
        rows[i] = F.unfold(x[i : i + 1], kernel, padding=padding)[0].T
    return rows, (oh, ow)


def _available_memory():
    """MemAvailable from /proc/meminfo in bytes, None where there is no such file."""
    try:
        with open('/proc/meminfo') as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith('MemAvailable:'))
    except (OSError, StopIteration, ValueError):
        return None


def _spearman(pred, target):
    pred = pred.flatten().numpy()
    if np.ptp(pred) < CONSTANT_RANGE:
        return 0.0
    return float(spearmanr(pred, target.flatten().numpy()).statistic)


def probe_backbone(
    backbone: nn.Module,
    train: list,
    test: list,
    mean: Sequence[float],
    std: Sequence[float],
    iters: int = 200,
    kernel: int = 3,
    padding: int = 0,
    lr: float = 1e-3,
    batch_size: int = 8,
    seed: int = 0,
) -> dict:
    """Probe `backbone` on (kind, uint8 image) lists; also the raw-pixel read-out on the same grid.

    Returns dict(metrics=..., raw_pixels=..., by_input=..., raw_by_input=..., grid=[h, w]).
    """
    xs = normalize(train + test, mean, std)
    size = tuple(xs.shape[-2:])
    feats = backbone_features(backbone, xs)
    grid = tuple(feats.shape[-2:])
    raw = F.interpolate(xs, size=grid, mode='bilinear', align_corners=False, antialias=True)
    kinds = [k for k, _ in test]
    n = len(train)
    args = dict(iters=iters, kernel=kernel, padding=padding, lr=lr, batch_size=batch_size, seed=seed)
    net = probe_features(feats[:n], feats[n:], kinds, size, **args)
    pix = probe_features(raw[:n], raw[n:], kinds, size, **args)
    return dict(
        metrics=net['metrics'],
        raw_pixels=pix['metrics'],
        by_input=net['by_input'],
        raw_by_input=pix['by_input'],
        grid=list(grid),
        out_size=net['out_size'],
        channels=feats.shape[1],
        train_loss=net['train_loss'],
        batch_size=batch_size,
    )


def summary_rows(result):
    """[(row name, {target: (spc, mae)})] for printing."""
    rows = []
    for name, key in (('backbone', 'metrics'), ('raw pixels', 'raw_pixels')):
        m = result[key]
        rows.append((name, {t: (m[f'probe/{t}_spc'], m[f'probe/{t}_mae']) for t in TARGETS}))
    return rows


def format_table(result: dict) -> str:
    head = f'{"read-out from":<12}' + ''.join(f'{t + " SPC":>9}{t + " MAE":>8}' for t in TARGETS)
    lines = [head]
    for name, vals in summary_rows(result):
        lines.append(f'{name:<12}' + ''.join(f'{s:>9.3f}{m:>8.3f}' for s, m in vals.values()))
    return '\n'.join(lines)
