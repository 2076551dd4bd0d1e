"""The speed targets lstmkit promises, checked row by row against measured medians.

Two kinds of check: ``ratio_to_torch`` (time_impl / time_torch, must be at most the
limit) and ``speedup_vs_plain`` (time_plain_peephole / time_impl, must be at least the
limit). The streaming target is checked separately on the streaming result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

VARIANTS = ("peephole", "cifg", "layer_norm", "lstmp", "zoneout")
STREAM_TARGET_ID = "4"
STREAM_LIMIT = 0.2  # step latency at most 1/5 of torch.nn.LSTM on a length-1 sequence

RATIO = "ratio_to_torch"
SPEEDUP = "speedup_vs_plain"


@dataclass(frozen=True)
class Target:
    """One promise: ``metric`` of each of ``impls`` against ``limit`` on the matching rows."""

    id: str
    text: str
    impls: tuple[str, ...]
    metric: str  # RATIO (<= limit) or SPEEDUP (>= limit)
    limit: float
    batch_ok: Callable[[int], bool]
    modes: tuple[str, ...] = ("infer", "train")

    def passes(self, value: float) -> bool:
        return value <= self.limit if self.metric == RATIO else value >= self.limit


TARGETS = (
    Target("1a", "lstmkit_auto <= 1.05x torch, everywhere",
           ("lstmkit_auto",), RATIO, 1.05, lambda b: True),
    Target("1b", "lstmkit_native <= 1.3x torch at B >= 32",
           ("lstmkit_native",), RATIO, 1.3, lambda b: b >= 32),
    Target("2a", "peephole, cifg, lstmp, zoneout <= 1.3x torch at B >= 32",
           ("peephole", "cifg", "lstmp", "zoneout"), RATIO, 1.3, lambda b: b >= 32),
    Target("2b", "peephole, cifg, lstmp, zoneout <= 2x torch at B = 1",
           ("peephole", "cifg", "lstmp", "zoneout"), RATIO, 2.0, lambda b: b == 1),
    Target("2c", "layer_norm <= 1.6x torch at B >= 32",
           ("layer_norm",), RATIO, 1.6, lambda b: b >= 32),
    Target("3a", "every variant >= 2x faster than plain_peephole, training at B = 32",
           VARIANTS, SPEEDUP, 2.0, lambda b: b == 32, ("train",)),
    Target("3b", "every variant >= 4x faster than plain_peephole, training at B = 1",
           VARIANTS, SPEEDUP, 4.0, lambda b: b == 1, ("train",)),
)

Row = tuple[str, int, int, int]  # (mode, B, T, H)


def _value(target: Target, medians: dict[str, float | None], impl: str) -> float | None:
    own = medians.get(impl)
    other = medians.get("torch" if target.metric == RATIO else "plain_peephole")
    if own is None or other is None:
        return None
    return own / other if target.metric == RATIO else other / own


def check_rows(medians: dict[Row, dict[str, float | None]], impls: list[str]) -> list[dict]:
    """One check per (target, row, impl) that the measured grid and impl list cover.

    ``medians[row][impl]`` is the median time in seconds, None when it did not run. A
    check is "pass", "fail", or "missing" when a time it needs is absent.
    """
    checks = []
    for target in TARGETS:
        for row in sorted(medians):
            mode, batch, length, hidden = row
            if mode not in target.modes or not target.batch_ok(batch):
                continue
            for impl in target.impls:
                if impl not in impls:
                    continue
                value = _value(target, medians[row], impl)
                status = "missing" if value is None else ("pass" if target.passes(value) else "fail")
                checks.append({
                    "target": target.id, "impl": impl, "mode": mode, "B": batch, "T": length,
                    "H": hidden, "metric": target.metric, "value": value, "limit": target.limit,
                    "status": status,
                })
    return checks


def check_stream(stream: dict | None) -> list[dict]:
    """The streaming target's single check (none when streaming was not measured)."""
    if stream is None:
        return []
    value = stream.get("ratio")
    status = "missing" if value is None else ("pass" if value <= STREAM_LIMIT else "fail")
    return [{
        "target": STREAM_TARGET_ID, "impl": "lstmkit_step", "mode": "stream", "B": 1, "T": 1,
        "H": stream["H"], "metric": "step_latency_ratio_to_torch", "value": value,
        "limit": STREAM_LIMIT, "status": status,
    }]


def _worst(checks: list[dict]) -> dict | None:
    measured = [c for c in checks if c["value"] is not None]
    if not measured:
        return None
    # Worst means largest ratio (or latency ratio) and smallest speedup.
    if measured[0]["metric"] == SPEEDUP:
        return min(measured, key=lambda c: c["value"])
    return max(measured, key=lambda c: c["value"])


def summarize(checks: list[dict]) -> list[dict]:
    """Per target: counts of pass/fail/missing and the worst measured check."""
    texts = {t.id: t.text for t in TARGETS}
    texts[STREAM_TARGET_ID] = f"streaming step <= {STREAM_LIMIT}x torch.nn.LSTM, length 1"
    summary = []
    for target_id, text in texts.items():
        mine = [c for c in checks if c["target"] == target_id]
        if not mine:
            continue
        counts = {s: sum(c["status"] == s for c in mine) for s in ("pass", "fail", "missing")}
        summary.append({"target": target_id, "text": text, "checks": len(mine), **counts,
                        "worst": _worst(mine)})
    return summary


def where(check: dict) -> str:
    """Where a check was measured, for humans."""
    if check["mode"] == "stream":
        return f"streaming B=1 H={check['H']}"
    return f"{check['impl']} {check['mode']} B={check['B']} T={check['T']} H={check['H']}"


def format_summary(summary: list[dict]) -> list[str]:
    """One line per target."""
    lines = []
    for entry in summary:
        line = (f"[{entry['target']}] {entry['text']}: {entry['pass']}/{entry['checks']} pass, "
                f"{entry['fail']} fail, {entry['missing']} n/a")
        worst = entry["worst"]
        if worst is not None:
            line += f"; worst {worst['value']:.3g}x at {where(worst)}"
        lines.append(line)
    return lines
