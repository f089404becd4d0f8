"""Timing side by side: interleaved rounds, per-round ratios, device synchronisation.

On a shared machine absolute times drift by tens of percent, so every claim is a ratio of two models
timed in the same *round* (one call of each, back to back, in an order rotated every round) and the
report gives the median of the per-round ratios: slow drift multiplies both sides and cancels.
"""

import gc
import statistics
import time

import torch


def synchronize(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def time_call(fn, device='cpu'):
    """(wall seconds, process CPU seconds) of one call of `fn`, the device synchronised around it.

    CPU time counts only this process's own work, so on a shared CPU it does not grow when other jobs
    take the cores away (wall time does); it is meaningless for GPU work, where wall time is the clock.
    """
    gc.collect()
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    synchronize(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(fns, rounds, warmup=1, device='cpu', after_round=None):
    """{name: [(wall, cpu) per round]}: each round calls every one of `fns` once, order rotated per round.

    Rotation puts every function in every position equally often (for `rounds` a multiple of their
    number), so "runs first" or "runs right after X" biases cancel as well as slow drift.
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(time_call(fns[name], device))
        if after_round:
            after_round(r + 1, rounds)
    return times


def ratio_stats(num, den):
    """Median, quartiles, min and max of the per-round ratios num[i] / den[i], and the medians of both."""
    ratios = sorted(a / b for a, b in zip(num, den, strict=True))
    q1, _, q3 = statistics.quantiles(ratios, n=4, method='inclusive') if len(ratios) > 1 else ratios * 3
    return dict(
        median=statistics.median(ratios),
        q1=q1,
        q3=q3,
        min=ratios[0],
        max=ratios[-1],
        n=len(ratios),
        num_median=statistics.median(num),
        den_median=statistics.median(den),
    )
