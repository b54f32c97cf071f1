"""PNG plots for the `quarry eval qa` report (matplotlib, Agg backend: no display needed)."""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarry.eval.qa_rows import QaRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = ("cost_vs_quality.png", "latency.png", "spend_by_node.png")
MAX_LABELLED_POINTS = 60


def write_plots(out_dir: Path, rows: Sequence[QaRow], summary: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = [out_dir / name for name in PLOTS]
    for path, draw in zip(paths, (_cost_vs_quality, _latency, _spend_by_node)):
        figure = draw(rows, summary)
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
    return paths


def _cost_vs_quality(rows: Sequence[QaRow], summary: dict[str, Any]) -> "Figure":
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    # Offline runs cost $0, so dollars would put every point on one line: fall back to tokens.
    by_usd = any(r.usd > 0 for r in rows)
    cost = [r.usd if by_usd else r.tokens for r in rows]
    panels = [
        (label, [getattr(r, key) for r in rows])
        for key, label in (
            ("f1", "answer F1 (lead sentence)"),
            ("contains", "contains whole gold answer"),
            ("cited_recall", "evidence recall, cited"),
        )
    ]
    panels = [(label, values) for label, values in panels if any(v is not None for v in values)] or [
        ("answer F1 (lead sentence)", [None] * len(rows))
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, (label, values) in zip(axes[0], panels):
        for partial, colour, name in ((False, "tab:blue", "complete"), (True, "tab:orange", "partial")):
            points = [
                (c, v, n)
                for n, (c, v, r) in enumerate(zip(cost, values, rows), start=1)
                if v is not None and r.partial is partial
            ]
            if points:
                axis.scatter([p[0] for p in points], [p[1] for p in points], s=18, alpha=0.7, color=colour, label=name)
                if len(rows) <= MAX_LABELLED_POINTS:  # each point names its question (answers.jsonl line)
                    for x, y, number in points:
                        axis.annotate(str(number), (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
        axis.set_xlabel("dollars per question" if by_usd else "LLM tokens per question (offline model: $0)")
        if not by_usd:
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(label)
        axis.set_ylim(-0.05, 1.05)
        axis.legend(loc="lower right", fontsize=8)
    figure.suptitle(f"Cost vs quality — {summary['run']['dataset']}")
    return figure


def _latency(rows: Sequence[QaRow], summary: dict[str, Any]) -> "Figure":
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axis = plt.subplots(figsize=(6, 4))
    latencies = [r.latency_s for r in rows]
    axis.hist(latencies, bins=max(5, min(30, len(latencies) // 5)), color="tab:blue", alpha=0.8)
    for key, style in (("p50", "--"), ("p95", ":")):
        value = summary["latency_s"][key]
        axis.axvline(value, color="black", linestyle=style, label=f"{key} {value:.2f} s")
    axis.set_xlabel("seconds per question (caller's wall time)")
    axis.set_ylabel("questions")
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    axis.legend(fontsize=8)
    axis.set_title(f"Latency — {summary['run']['dataset']}")
    return figure


def _spend_by_node(rows: Sequence[QaRow], summary: dict[str, Any]) -> "Figure":
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    nodes = summary["spend_by_node"]
    names = list(nodes) or ["(none)"]
    dollars = [nodes.get(n, {}).get("usd", 0.0) for n in names]
    # Offline every node costs $0: a dollars panel would say nothing, so only tokens are drawn.
    figure, axes = plt.subplots(1, 2 if any(dollars) else 1, figsize=(10 if any(dollars) else 6, 4), squeeze=False)
    tokens_axis = axes[0][0]
    inputs = [nodes.get(n, {}).get("input_tokens", 0) for n in names]
    outputs = [nodes.get(n, {}).get("output_tokens", 0) for n in names]
    tokens_axis.bar(names, inputs, color="tab:blue", label="input")
    tokens_axis.bar(names, outputs, bottom=inputs, color="tab:orange", label="output")
    tokens_axis.set_ylabel("LLM tokens, all questions")
    tokens_axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    tokens_axis.legend(fontsize=8)
    if any(dollars):
        usd_axis = axes[0][1]
        usd_axis.bar(names, dollars, color="tab:green")
        usd_axis.set_ylabel("dollars, all questions")
    else:
        tokens_axis.set_title("$0 at every node (offline model): dollars not drawn", fontsize=8)
    figure.suptitle(f"Spend by node — {summary['run']['dataset']} ({len(rows)} questions)")
    return figure
