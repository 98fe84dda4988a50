"""What the Logs page shows about a scored log, accumulated batch by batch in bounded memory.

:class:`LogSummary` takes the scored batches of one log (``seal.stream.ScoredBatches``) one at a time and keeps
only what is displayed: the totals, per-model / app / user sums, hourly and daily sums, a histogram of CO2e per
request, the heaviest requests, counts of each warning code, a uniform random sample of rows (for the
downloads) and the requests grouped by configuration and token-count bucket (:class:`seal.whatif.GroupedRequests`,
for the What-if page). Its size does not grow with the log: a 3 M-row log and a 3 k-row log give summaries
of the same order (tens of MiB at most, bounded by :data:`SAMPLE_MAX_BYTES`).

The sums are those of :mod:`seal.ui.aggregate` on the whole frame: same columns, same ``min_count=1`` rule (a
column with no value is NaN, not 0), same "(none)" and "(other)" labels. Integer-valued sums (requests, tokens)
are exact; float sums differ from a single whole-frame sum only by rounding (the order of additions changes).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

from seal.ui.aggregate import SUM_COLUMNS
from seal.frames import numeric_series

SAMPLE_ROWS = 20_000               # rows kept in the uniform sample (downloads, What-if)
SAMPLE_MAX_BYTES = 32 << 20        # bytes: the sample shrinks (still uniform) when long prompts make it bigger
SAMPLE_SEED = 20_260_302           # the sample is the same for the same log, whatever the batch size
TOP_GROUPS = 25                    # groups shown per model / app / user; the rest is one "(other)" row or a note
MAX_GROUPS = 10_000                # distinct values tracked per group column before the lightest are folded
HEAVIEST_ROWS = 50                 # heaviest requests kept (all columns)
GROUP_BY = ("model", "app", "user")
TIME_COLUMN = "timestamp"
MAX_TIME_BUCKETS = 50_000          # hourly buckets kept (~5.7 years); beyond, only daily sums remain
HIST_MIN_G, HIST_MAX_G = 1e-12, 1e12   # g CO2e: range of the fixed histogram bins (values outside are clamped)
HIST_BINS_PER_DECADE = 200         # fixed log-spaced bins: 4 800 counters, regrouped for display
OTHER, NONE = "(other)", "(none)"
# The serving set-up and carbon factors each scored row used (the estimator's resolved values): the report's
# assumptions table and the scenario file's "resolved" section count rows and CO2e per distinct combination.
SETUP_COLUMNS: tuple[str, ...] = ("model", "gpu_model", "gpus", "batch_size", "engine", "precision", "pue",
                                  "grid_intensity_g_per_kwh", "grid_intensity_source")
MAX_SETUPS = 1_000                 # distinct set-ups tracked; rows of later new ones are counted apart


def _sum_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in SUM_COLUMNS if c in frame]


def _merge_sums(acc: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """Add two tables of sums indexed by group: NaN only where both sides are NaN (``min_count=1``)."""
    if acc is None or acc.empty:
        return new
    return acc.add(new, fill_value=0)


def _group_sums(data: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """``requests`` and the sums of ``data``'s columns per value of ``key`` (first-seen order)."""
    out = data.groupby(key, sort=False).sum(min_count=1)
    out.insert(0, "requests", key.value_counts(sort=False).reindex(out.index).to_numpy(dtype=float))
    return out


def _as_read(scored: pd.DataFrame, requests: pd.DataFrame | None) -> pd.DataFrame:
    """The rows What-if groups: the requests as read (configuration as the log gave it) with the token counts and
    call type the estimate used (counted from text, or the stated default output length)."""
    if requests is None or len(requests) != len(scored) or not requests.index.equals(scored.index):
        return scored
    counted = {c: scored[c] for c in ("input_tokens", "output_tokens", "call_type") if c in scored}
    return requests.assign(**counted)


class LogSummary:
    """Accumulates the scored batches of one log; every result is a small frame or dict (see module docstring).

    Args:
        sample_rows: rows in the uniform sample (:data:`SAMPLE_ROWS`).
        sample_max_bytes: memory the sample may use, in bytes (:data:`SAMPLE_MAX_BYTES`); above it the sample is cut
            to fewer rows, keeping it uniform.
        max_groups: distinct values tracked per group column (:data:`MAX_GROUPS`). Past it the lighter half is
            folded into "(other)": totals stay exact, and the heaviest groups are exact unless one of them was folded
            while still light (``folded`` says which columns were).
        heaviest_rows: heaviest requests kept (:data:`HEAVIEST_ROWS`).
        seed: seed of the sample's random priorities.

    How the log was read is recorded beside the figures, set by the reader (``seal.ui.loaders.summarize_log``), so a
    page can show it from a cached summary: ``unknown_models`` ({model as logged: rows} set apart and not estimated;
    the figures cover the other rows, :attr:`partial`), ``column_mapping`` ({SEAL column: file column}) and
    ``model_map`` ({model as logged: catalogue model or size}).
    """

    def __init__(self, *, sample_rows: int = SAMPLE_ROWS, sample_max_bytes: int = SAMPLE_MAX_BYTES,
                 max_groups: int = MAX_GROUPS, heaviest_rows: int = HEAVIEST_ROWS, seed: int = SAMPLE_SEED) -> None:
        if sample_rows < 1 or max_groups < 2 or heaviest_rows < 1:
            raise ValueError("sample_rows, heaviest_rows must be >= 1 and max_groups >= 2")
        self.sample_rows = int(sample_rows)
        self.sample_max_bytes = int(sample_max_bytes)
        self.max_groups = int(max_groups)
        self.heaviest_rows = int(heaviest_rows)
        self.requests = 0                                  # rows added
        self.columns: list[str] = []                       # result columns, in the first batch's order
        self._partials: dict[str, list[float]] = {}        # per column: one partial sum per batch (fsum at the end)
        self._counts: dict[str, int] = {}                  # per column: non-missing values seen
        self._groups: dict[str, pd.DataFrame] = {}
        self._other: dict[str, pd.Series] = {}             # per group column: sums folded away
        self._has_values: dict[str, bool] = {}
        self.folded: set[str] = set()
        self._hourly: pd.DataFrame | None = None
        self._daily: pd.DataFrame | None = None
        self.timestamps = 0                                # rows with a valid timestamp
        self._hist = np.zeros(self._hist_bins(), dtype=np.int64)
        self._hist_min = math.inf
        self._hist_max = -math.inf
        self._heavy: pd.DataFrame | None = None
        self._warnings: Counter[str] = Counter()
        self._rng = np.random.default_rng(seed)
        self._sample: pd.DataFrame | None = None
        self._priority = np.zeros(0)                       # the sample rows' random priorities (smallest kept)
        self._position = np.zeros(0, dtype=np.int64)       # the sample rows' positions in the log
        # how the log was read (filled by whoever reads it, e.g. seal.ui.loaders.summarize_log)
        self.unknown_models: dict[str, int] = {}           # model as logged -> rows set apart, not estimated
        self.column_mapping: dict[str, str] = {}           # SEAL column -> file column the read used (--columns)
        self.model_map: dict = {}                          # model as logged -> catalogue model or size (--model-map)
        from seal.whatif import GroupedRequests

        self.grouped_requests = GroupedRequests()          # every request, grouped for the What-if page (bounded)
        self.skipped = 0                                   # bad rows skipped (skip_bad), not estimated
        self.skipped_examples: list[str] = []              # a few of them: "line 7: output_tokens is negative"
        self.ignored = 0                                   # non-request records ignored (spans, events)
        self.ignored_what = ""
        self._setups: dict[tuple, list[float]] = {}        # set-up values -> [rows, g CO2e]
        self._setups_untracked = 0                         # rows of set-ups beyond MAX_SETUPS
        self._folded_groups: dict[str, int] = {}           # per group column: groups folded away while reading

    # ------------------------------------------------------------ adding
    def add(self, batch: pd.DataFrame, requests: pd.DataFrame | None = None) -> None:
        """Fold one scored batch (a frame from :func:`seal.estimate`) into the summary. ``requests``: the same rows
        as read (:attr:`seal.stream.ScoredBatches.last_requests`), whose configuration columns What-if regroups —
        the scored batch's are the estimator's filled-in values (a default engine, a closed model's point size),
        which a scenario must be free to change."""
        n = len(batch)
        if not self.columns:
            self.columns = list(batch.columns)
        priority = self._rng.random(n)     # drawn for every batch, so the sample does not depend on batch sizes
        if n == 0:
            return
        cols = _sum_columns(batch)
        data = batch[cols].apply(pd.to_numeric, errors="coerce").astype(float)
        self._add_totals(data)
        self._add_groups(batch, data)
        self._add_time(batch, data)
        self._add_histogram(batch)
        self._add_heaviest(batch)
        self._add_warnings(batch)
        self._add_setups(batch)
        self._add_sample(batch, priority)
        self.grouped_requests.add(_as_read(batch, requests))
        self.requests += n

    def _add_totals(self, data: pd.DataFrame) -> None:
        for col in data.columns:
            values = data[col].to_numpy()
            ok = ~np.isnan(values)
            self._counts[col] = self._counts.get(col, 0) + int(ok.sum())
            # numpy's pairwise sum per batch (what pandas does on the whole frame), exact fsum over the batches
            self._partials.setdefault(col, []).append(float(values[ok].sum()))

    def _add_groups(self, batch: pd.DataFrame, data: pd.DataFrame) -> None:
        for by in GROUP_BY:
            if by not in batch:
                continue
            raw = batch[by]
            if not self._has_values.get(by):
                self._has_values[by] = bool(raw.dropna().astype(str).ne("").any())
            key = raw.astype("string").fillna(NONE)
            merged = _merge_sums(self._groups.get(by), _group_sums(data, key))
            if len(merged) > self.max_groups:
                merged = self._fold(by, merged)
            self._groups[by] = merged

    def _fold(self, by: str, table: pd.DataFrame) -> pd.DataFrame:
        """Keep the heavier half of ``table``'s groups; add the rest to the "(other)" sums of ``by``."""
        order = table["total_g_co2e"].sort_values(ascending=False, kind="stable").index \
            if "total_g_co2e" in table else table.index
        keep = self.max_groups // 2
        rest = table.loc[order[keep:]].sum(min_count=1)
        # a group folded in several batches is one group: only the largest single fold is a sure lower bound
        self._folded_groups[by] = max(self._folded_groups.get(by, 0), len(order) - keep)
        previous = self._other.get(by)
        self._other[by] = rest if previous is None else previous.add(rest, fill_value=0)
        self.folded.add(by)
        return table.loc[order[:keep]]

    def _add_time(self, batch: pd.DataFrame, data: pd.DataFrame) -> None:
        if TIME_COLUMN not in batch:
            return
        ts = pd.to_datetime(batch[TIME_COLUMN], errors="coerce", utc=True)
        keep = ts.notna().to_numpy()
        if not keep.any():
            return
        self.timestamps += int(keep.sum())
        rows = data[keep]
        if self._hourly is not None or self._daily is None:
            self._hourly = _merge_sums(self._hourly, _group_sums(rows, ts[keep].dt.floor("h")))
            if len(self._hourly) > MAX_TIME_BUCKETS:     # too long a span for hours: keep days only
                self._daily = _daily_from(self._hourly)
                self._hourly = None
        else:
            self._daily = _merge_sums(self._daily, _group_sums(rows, ts[keep].dt.floor("D")))

    def _add_histogram(self, batch: pd.DataFrame) -> None:
        if "total_g_co2e" not in batch:
            return
        v = numeric_series(batch, "total_g_co2e").to_numpy()
        v = v[np.isfinite(v) & (v > 0)]
        if not v.size:
            return
        self._hist_min = min(self._hist_min, float(v.min()))
        self._hist_max = max(self._hist_max, float(v.max()))
        self._hist += np.bincount(self._hist_index(v), minlength=len(self._hist))

    def _add_heaviest(self, batch: pd.DataFrame) -> None:
        if "total_g_co2e" not in batch:
            return
        v = numeric_series(batch, "total_g_co2e").to_numpy()
        pos = np.flatnonzero(~np.isnan(v))
        top = pos[np.argsort(-v[pos], kind="stable")][: self.heaviest_rows]
        candidates = batch.iloc[np.sort(top)]           # in log order, so ties keep the earliest row first
        if self._heavy is not None:
            candidates = pd.concat([self._heavy, candidates])
        v = numeric_series(candidates, "total_g_co2e").to_numpy()
        self._heavy = candidates.iloc[np.sort(np.argsort(-v, kind="stable")[: self.heaviest_rows])]

    def _add_warnings(self, batch: pd.DataFrame) -> None:
        if "warnings" not in batch:
            return
        for combo, n in batch["warnings"].dropna().astype(str).value_counts(sort=False).items():
            for code in combo.split(";"):
                if code.strip():
                    self._warnings[code.strip()] += int(n)

    def _add_setups(self, batch: pd.DataFrame) -> None:
        cols = [c for c in SETUP_COLUMNS if c in batch]
        if not cols:
            return
        co2e = numeric_series(batch, "total_g_co2e") if "total_g_co2e" in batch else pd.Series(0.0, index=batch.index)
        keys = batch[cols].astype(object)
        grouped = co2e.groupby([keys[c] for c in cols], dropna=False, sort=False).agg(["size", "sum"])
        for key, (rows, grams) in zip(grouped.index, grouped.to_numpy()):
            key = tuple(None if pd.isna(v) else v for v in (key if isinstance(key, tuple) else (key,)))
            hit = self._setups.get(key)
            if hit is not None:
                hit[0] += rows
                hit[1] += grams
            elif len(self._setups) < MAX_SETUPS:
                self._setups[key] = [rows, grams]
            else:
                self._setups_untracked += int(rows)
        self._setup_columns = cols

    def _add_sample(self, batch: pd.DataFrame, priority: np.ndarray) -> None:
        """Bottom-k sampling: every row gets a uniform random priority and the ``k`` smallest are kept, which is a
        uniform sample of ``k`` rows without replacement (the same rows however the log is cut into batches)."""
        k = self.sample_rows
        full = len(self._priority) >= k
        cut = np.partition(self._priority, k - 1)[k - 1] if full else 1.0
        take = np.flatnonzero(priority < cut)
        if not take.size:
            return
        rows = batch.iloc[take]
        frames = [rows] if self._sample is None else [self._sample, rows]
        prio = np.concatenate([self._priority, priority[take]])
        pos = np.concatenate([self._position, self.requests + take])
        sample = pd.concat(frames) if len(frames) > 1 else rows
        if len(prio) > k:
            keep = np.sort(np.argpartition(prio, k - 1)[:k])      # sample rows stay in log order
            sample, prio, pos = sample.iloc[keep], prio[keep], pos[keep]
        used = int(sample.memory_usage(deep=True, index=True).sum())
        if used > self.sample_max_bytes and len(prio) > 1:
            k = max(1, int(len(prio) * self.sample_max_bytes / used))
            self.sample_rows = k                                    # later batches compete for the smaller sample
            keep = np.sort(np.argpartition(prio, k - 1)[:k])
            sample, prio, pos = sample.iloc[keep], prio[keep], pos[keep]
        self._sample, self._priority, self._position = sample, prio, pos

    @staticmethod
    def _hist_bins() -> int:
        return int(round(math.log10(HIST_MAX_G / HIST_MIN_G) * HIST_BINS_PER_DECADE))

    def _hist_index(self, v: np.ndarray) -> np.ndarray:
        i = np.floor((np.log10(v) - math.log10(HIST_MIN_G)) * HIST_BINS_PER_DECADE).astype(np.int64)
        return np.clip(i, 0, len(self._hist) - 1)

    # ------------------------------------------------------------ results
    def totals(self) -> dict[str, float]:
        """Like :func:`seal.ui.aggregate.totals` of the whole log: ``requests`` and every additive column's sum
        (NaN for a column with no value)."""
        out: dict[str, float] = {"requests": float(self.requests)}
        for col in SUM_COLUMNS:
            if col in self._partials:
                out[col] = math.fsum(self._partials[col]) if self._counts[col] else float("nan")
        return out

    def has_values(self, by: str) -> bool:
        """Whether column ``by`` (model / app / user) holds any non-empty value in the log."""
        return self._has_values.get(by, False)

    def grouped(self, by: str, top: int | None = TOP_GROUPS) -> pd.DataFrame:
        """Like :func:`seal.ui.aggregate.grouped` of the whole log: per value of ``by``, ``requests`` and the sums,
        heaviest CO2e first, groups beyond ``top`` (and any folded away) in one "(other)" row."""
        table = self._groups.get(by)
        if table is None:
            return pd.DataFrame(columns=[by, "requests", *[c for c in SUM_COLUMNS if c in self._partials]])
        out = table.sort_values("total_g_co2e", ascending=False, kind="stable") if "total_g_co2e" in table else table
        other = self._other.get(by)
        if top is not None and (len(out) > top or other is not None):
            rest = out.iloc[top:].sum(min_count=1)
            if other is not None:
                rest = rest.add(other, fill_value=0) if len(out) > top else other
            out = pd.concat([out.iloc[:top], rest.to_frame(OTHER).T])
        elif other is not None:
            out = pd.concat([out, other.to_frame(OTHER).T])
        out = out.copy()
        out["requests"] = out["requests"].astype("int64")
        out.index.name = by
        return out.reset_index()

    def top_groups(self, by: str, top: int = TOP_GROUPS) -> tuple[pd.DataFrame, dict[str, float] | None]:
        """The ``top`` heaviest groups of ``by`` (no "(other)" row) and what the rest add up to, or ``None`` when
        every group is shown: ``groups`` (how many; at least that many when groups were folded while reading,
        ``groups_at_least``), ``requests``, ``total_g_co2e`` and ``share`` (of the log's CO2e, 0-1). For a chart
        that shows each group and a note on the rest, instead of one "(other)" bar larger than any group."""
        table = self.grouped(by, top=None)
        folded = self._other.get(by)
        named = table.iloc[:-1] if folded is not None else table      # grouped() puts the folded sums last
        shown, rest = named.iloc[:top], named.iloc[top:]
        if not len(rest) and folded is None:
            return shown.reset_index(drop=True), None
        requests = float(rest["requests"].sum()) + (float(folded.get("requests", 0)) if folded is not None else 0)
        grams = float(numeric_series(rest, "total_g_co2e").sum()) if "total_g_co2e" in rest else float("nan")
        if folded is not None and "total_g_co2e" in folded:
            grams += float(folded["total_g_co2e"])
        total = self.totals().get("total_g_co2e", float("nan"))
        return shown.reset_index(drop=True), {
            "groups": len(rest) + self._folded_groups.get(by, 0), "groups_at_least": folded is not None,
            "requests": requests, "total_g_co2e": grams,
            "share": grams / total if total and math.isfinite(total) and total > 0 else float("nan")}

    def setups(self) -> pd.DataFrame:
        """The resolved serving set-ups and carbon factors of the scored rows (:data:`SETUP_COLUMNS` the log's
        results have): one row per distinct combination with ``requests`` and ``total_g_co2e``, most requests
        first; rows of combinations beyond :data:`MAX_SETUPS` are one last row with empty set-up values."""
        cols = list(getattr(self, "_setup_columns", []))
        rows = [(*k, v[0], v[1]) for k, v in self._setups.items()]
        if self._setups_untracked:
            rows.append((*([None] * len(cols)), self._setups_untracked, float("nan")))
        out = pd.DataFrame(rows, columns=[*cols, "requests", "total_g_co2e"])
        out["requests"] = out["requests"].astype("int64")
        return out.sort_values(["requests", "total_g_co2e"], ascending=False, kind="stable").reset_index(drop=True)

    def resolved(self) -> dict:
        """What the scored rows actually used, per :data:`SETUP_COLUMNS` field: the one value when every row used
        the same, else ``{value: rows}`` (most rows first) — the scenario file's "resolved" section."""
        table = self.setups()
        out: dict = {}
        for col in table.columns[:-2]:
            counts = table.groupby(col, dropna=True, sort=False)["requests"].sum().sort_values(ascending=False)
            values = {(_py(k)): int(v) for k, v in counts.items()}
            out[col] = next(iter(values)) if len(values) == 1 else values
        return out

    def over_time(self, freq: str = "h") -> pd.DataFrame:
        """Like :func:`seal.ui.aggregate.over_time`: sums per hour (``"h"``) or day (``"D"``), UTC; empty when the
        log has no timestamps, or (hourly only) when it spans more than :data:`MAX_TIME_BUCKETS` hours."""
        if freq not in ("h", "D"):
            raise ValueError(f"freq must be 'h' or 'D', not {freq!r}")
        if freq == "h":
            table = self._hourly
        else:
            table = self._daily if self._hourly is None else _daily_from(self._hourly)
        if table is None:
            return pd.DataFrame(columns=[TIME_COLUMN, "requests", *SUM_COLUMNS])
        out = table.sort_index().copy()
        out["requests"] = out["requests"].astype("int64")
        out.index.name = TIME_COLUMN
        return out.reset_index()

    @property
    def hourly_available(self) -> bool:
        """False when the log spans too many hours for an hourly series (daily sums are still there)."""
        return self._hourly is not None or self._daily is None

    def histogram(self, bins: int = 50) -> pd.DataFrame:
        """Requests per CO2e bin: ``low_g``, ``high_g`` (bin edges, g) and ``requests``, at most ``bins`` log-spaced
        bins from the smallest to the largest positive value. Counts are exact; the edges fall on a fixed grid of
        :data:`HIST_BINS_PER_DECADE` per decade."""
        if not np.isfinite(self._hist_min):
            return pd.DataFrame({"low_g": [], "high_g": [], "requests": []})
        first, last = (int(i) for i in self._hist_index(np.array([self._hist_min, self._hist_max])))
        used = self._hist[first:last + 1]
        width = max(1, math.ceil(len(used) / bins))
        starts = np.arange(0, len(used), width)
        counts = np.add.reduceat(used, starts)
        lo_exp = math.log10(HIST_MIN_G) + (first + starts) / HIST_BINS_PER_DECADE
        hi_exp = math.log10(HIST_MIN_G) + (first + np.minimum(starts + width, len(used))) / HIST_BINS_PER_DECADE
        return pd.DataFrame({"low_g": 10.0 ** lo_exp, "high_g": 10.0 ** hi_exp, "requests": counts.astype("int64")})

    def heaviest(self, n: int | None = None) -> pd.DataFrame:
        """Like :func:`seal.ui.aggregate.heaviest`: the ``n`` (at most ``heaviest_rows``) rows with the most CO2e,
        heaviest first, every column, original index."""
        if self._heavy is None:
            return pd.DataFrame(columns=self.columns)
        v = numeric_series(self._heavy, "total_g_co2e").to_numpy()
        order = np.argsort(-v, kind="stable")
        return self._heavy.iloc[order[: n or self.heaviest_rows]]

    def warning_counts(self) -> dict[str, int]:
        """Rows hit by each warning code (``seal.errors.WARNINGS``), most frequent first."""
        return dict(self._warnings.most_common())

    @property
    def sample(self) -> pd.DataFrame:
        """A uniform random sample of the log's scored rows (all of them when the log has at most ``sample_rows``),
        in log order, every column."""
        if self._sample is None:
            return pd.DataFrame(columns=self.columns)
        return self._sample

    @property
    def partial(self) -> bool:
        """Whether rows of unknown models were set apart (:attr:`unknown_models`): the figures cover the others."""
        return bool(self.unknown_models)

    @property
    def not_estimated(self) -> int:
        """Rows read but not estimated because their model is unknown."""
        return sum(self.unknown_models.values())

    @property
    def is_complete(self) -> bool:
        """Whether :attr:`sample` holds every row of the log."""
        return self.requests == len(self.sample)

    def nbytes(self) -> int:
        """Approximate memory held (bytes): the sample and heaviest rows, group and time tables, counters."""
        frames = [self._sample, self._heavy, self._hourly, self._daily, *self._groups.values()]
        size = sum(int(f.memory_usage(deep=True, index=True).sum()) for f in frames if f is not None)
        grouped = self.grouped_requests.nbytes() if hasattr(self, "grouped_requests") else 0
        return size + grouped + self._hist.nbytes + self._priority.nbytes + self._position.nbytes

    @classmethod
    def of(cls, batches: Iterable[pd.DataFrame], **options) -> "LogSummary":
        """The summary of ``batches`` (for tests and scripts): ``LogSummary.of(ScoredBatches(path))``."""
        summary = cls(**options)
        for batch in batches:
            summary.add(batch)
        return summary


def _py(value):
    """A numpy scalar as the Python value JSON writes (``np.int64(4)`` -> ``4``)."""
    return value.item() if hasattr(value, "item") else value


def _daily_from(hourly: pd.DataFrame) -> pd.DataFrame:
    """Daily sums from hourly sums (a UTC day is 24 whole hours), ``min_count=1``."""
    return hourly.groupby(hourly.index.floor("D"), sort=True).sum(min_count=1)
