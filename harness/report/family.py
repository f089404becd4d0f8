"""One verdict per family: the headline comparisons of a report are judged together, with Holm's adjustment.

A report states every variant x headline metric difference (`headline_comparisons`). Judging each at 5%
on its own makes "at least one false finding" likely as their number grows (10 comparisons: up to 40%),
so the comparisons that carry a verdict form one family and the verdict is Holm's step-down at a 5%
familywise error rate (Holm 1979): sort the m p values, multiply the i-th smallest by m − i + 1, make
the products non-decreasing and cap them at 1; a comparison is distinguishable from zero when its
adjusted p is below 5%. Holm controls the familywise error under any dependence between the
comparisons (here they share baselines and test images) and rejects everything Bonferroni does.
The unadjusted 95% interval stays in the tables beside the adjusted verdict.

The family is the grid's `primary:` comparisons when it names some, else every headline comparison.
Comparisons without a verdict (one seed: `intervals.Interval.has_verdict`) are not in it; comparisons
outside a named primary family keep their unadjusted interval and are labelled secondary.
Holm is a few lines; scipy.stats has only false-discovery-rate adjustments (`false_discovery_control`)
and statsmodels is not a dependency of this project.
"""

from dataclasses import dataclass

ALPHA = 0.05


def headline_comparisons(res):
    """[(task, variant, key)] of every headline difference the report states, in report order."""
    return [
        (t, v, k)
        for t in res.tasks
        for v in res.variants_of(t)
        if res.baseline[v] != v
        for k in res.headline_of[t]
        if not res.missing_kind(v, k)
    ]


def holm(pvalues):
    """Holm-adjusted p values, in the order given."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


@dataclass
class Family:
    members: list  # [(variant, key)] judged together
    adjusted: dict  # (variant, key) -> Holm-adjusted p
    primary: bool  # the grid named its primary comparisons
    alpha: float = ALPHA

    @property
    def size(self):
        return len(self.members)

    def describe(self):
        """The sentence the report puts next to its findings."""
        if not self.members:
            return 'No comparison carries a verdict (each needs two seeds or more), so no family was judged.'
        which = (
            'the comparisons the grid names as primary'
            if self.primary
            else 'every headline comparison with two seeds or more'
        )
        return (
            f'Verdicts: a family of {self.size} comparison{"s" if self.size != 1 else ""} ({which}), '
            f'Holm-adjusted at a {self.alpha:.0%} familywise error rate; the intervals shown are the '
            'unadjusted 95% intervals of each comparison alone.'
        )


def candidates(res):
    """[(variant, key)] the family is drawn from: the grid's primary comparisons, else every headline one."""
    chosen = res.grid.get('primary') or []
    found = [(v, k) for _, v, k in headline_comparisons(res)]
    if chosen:
        found = [(v, k) for v, k in found if any(p['variant'] == v and p.get('metric') in (None, k) for p in chosen)]
    return found


def family(res):
    """The `Family` of a report's `Results`: its members and their adjusted p values."""
    members = []
    for v, k in candidates(res):
        iv = res.interval(v, k)
        if iv is not None and iv.has_verdict:
            members.append((v, k))
    adjusted = holm([res.interval(v, k).p for v, k in members])
    return Family(members, dict(zip(members, adjusted)), bool(res.grid.get('primary')))


def verdict(res, variant, key):
    """The words for one comparison: Holm's verdict in the family, 'secondary' outside it, none for one seed."""
    iv = res.interval(variant, key)
    if iv is None or iv.lo is None:
        return 'no interval'
    if not iv.has_verdict:
        return 'no verdict (one seed: test-set noise only)'
    fam = res.family
    if (variant, key) not in fam.adjusted:
        return (
            f'secondary (outside the primary family): unadjusted interval '
            f'{"excludes" if iv.distinguishable else "includes"} zero'
        )
    p = fam.adjusted[(variant, key)]
    word = 'distinguishable' if p < fam.alpha else 'not distinguishable'
    return f'{word} from zero (Holm, family of {fam.size}: adjusted p = {p:.3g})'


def judged_distinguishable(res, variant, key):
    """True / False: Holm's verdict in the family (or, outside it, the unadjusted interval); None: no verdict."""
    iv = res.interval(variant, key)
    if iv is None or not iv.has_verdict:
        return None
    p = res.family.adjusted.get((variant, key))
    return iv.distinguishable if p is None else p < res.family.alpha
