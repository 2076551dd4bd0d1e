"""What a person watching a run sees: a progress bar on a terminal, log lines elsewhere.

The bar (tqdm) shows the step, ETA, the running loss and the throughput in the task's
unit (``tokens/s``). Without a terminal (CI, pipes, files) a plain line is printed every
``log_every`` steps instead, so logs stay readable and small.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    """Report training progress; silent on processes other than rank 0."""

    def __init__(
        self, *, total_steps: int, start_step: int, unit: str, mode: str, enabled: bool,
        time_budget: float | None = None,
    ) -> None:
        """``time_budget``: seconds this process may still train (``train.max_time``);
        the ETA is then the sooner of the step count's and the budget's end."""
        self.total, self.unit, self.enabled = total_steps, unit, enabled
        self.time_budget = time_budget
        use_bar = mode == "bar" or (mode == "auto" and sys.stderr.isatty())
        self._bar = None
        if enabled and use_bar:
            self._bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True)
        self._start_time, self._start_step = time.perf_counter(), start_step

    def update(self, step: int, values: dict[str, float], *, log_line: bool) -> None:
        """Advance to ``step``; ``values`` holds loss, lr, grad_norm and ``{unit}/s``."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            budget = {}
            if self.time_budget is not None:  # tqdm's own ETA only knows the step count
                left = max(self.time_budget - (time.perf_counter() - self._start_time), 0.0)
                budget["budget_left"] = tqdm.format_interval(left)
            self._bar.set_postfix(
                loss=f"{values['loss']:.4g}", **{f"{self.unit}/s": f"{values[f'{self.unit}/s']:.3g}"},
                **budget, refresh=False,
            )
        elif log_line:
            elapsed = time.perf_counter() - self._start_time
            done = step - self._start_step
            seconds = elapsed / done * (self.total - step) if done else None
            if self.time_budget is not None:
                left = max(self.time_budget - elapsed, 0.0)
                seconds = left if seconds is None else min(seconds, left)
            eta = tqdm.format_interval(seconds) if seconds is not None else "?"
            print(
                f"step {step}/{self.total}  loss {values['loss']:.4f}  lr {values['lr']:.3g}  "
                f"grad_norm {values['grad_norm']:.3g}  {values[f'{self.unit}/s']:.4g} {self.unit}/s  "
                f"eta {eta}",
                file=sys.stderr, flush=True,
            )

    def message(self, text: str) -> None:
        """A line that does not disturb the bar."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
