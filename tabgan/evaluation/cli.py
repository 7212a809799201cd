"""``tabgan report``: the fidelity and privacy report from the shell.

``tabgan/cli.py`` wires :func:`add_report_parser` into its subcommands; :func:`run_report`
runs the subcommand on its own (``run_report(["real.csv", "synth.csv", "--out", "r.html"])``).
Torch is imported only with ``--model`` (to read the model file: its schema, fit settings and DP
ledger).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from .._io import read_csv

__all__ = ["add_report_parser", "cmd_report", "run_report"]

logger = logging.getLogger("tabgan")

DESCRIPTION = ("Compare a synthetic CSV with the real one: column shapes, pair trends and quality as "
               "SDMetrics 0.32 computes them, ML efficacy and detection against a holdout, distance-to-"
               "closest-record diagnostics, and the model's DP ledger; writes one self-contained HTML page.")


def add_report_parser(subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to ``subparsers`` (from ``parser.add_subparsers()``).

    The subcommand's handler is stored as ``func`` (``args.func(args)`` returns the exit code).
    """
    p = subparsers.add_parser("report", parents=list(parents), help="write a fidelity and privacy report (HTML)",
                              description=DESCRIPTION)
    p.add_argument("real", help="CSV of the real rows the model was trained on")
    p.add_argument("synthetic", help="CSV of synthetic rows")
    p.add_argument("--holdout", help="CSV of real rows the model never saw (enables ML efficacy, detection "
                                     "and the train-vs-holdout distance comparison)")
    p.add_argument("--target", help="column to predict for ML efficacy (needs --holdout)")
    p.add_argument("--metadata", help='JSON with column kinds: {"columns": {name: kind}}')
    p.add_argument("--model", help="model file written by 'tabgan fit': its column kinds, fit settings and DP "
                                   "ledger are used and shown")
    p.add_argument("--out", "-o", default="report.html", help="HTML file to write (default: report.html)")
    p.add_argument("--json", help="also write the scores as JSON to this file")
    p.add_argument("--max-rows", type=int, default=100_000,
                   help="seeded subsample cap per table (default: 100000)")
    p.add_argument("--seed", type=int, default=0, help="random_state of subsamples and models (default: 0)")
    p.add_argument("--sep", default=",", help="field separator of the CSV files (default: ',')")
    p.set_defaults(func=cmd_report)
    return p


def cmd_report(args: argparse.Namespace) -> int:
    """Handler of ``tabgan report``: build the report, write HTML (and JSON), print the headline."""
    from .report import FidelityReport

    if args.target and not args.holdout:
        raise ValueError("--target needs --holdout: ML efficacy is scored on real rows the model never saw.")
    real = read_csv(args.real, sep=args.sep)
    synthetic = read_csv(args.synthetic, sep=args.sep)
    holdout = read_csv(args.holdout, sep=args.sep) if args.holdout else None
    metadata = None
    if args.metadata:
        p = Path(args.metadata)
        if not p.exists():
            raise FileNotFoundError(f"No metadata file at {p}.")
        metadata = json.loads(p.read_text(encoding="utf-8"))
    if args.model and not Path(args.model).exists():
        raise FileNotFoundError(f"No model file at {args.model}.")
    # With --model the report reads the file (torch is imported only then): its column kinds,
    # its fit settings and its DP ledger, or the fact that it was trained without DP.
    report = FidelityReport(real, synthetic, holdout=holdout, target=args.target, metadata=metadata,
                            model=args.model or None, random_state=args.seed, max_rows=args.max_rows)
    report.to_html(args.out)
    scores = report.scores
    if args.json:
        Path(args.json).write_text(json.dumps(scores, indent=2, default=float), encoding="utf-8")
    lines = [f"{key:28s} {value:.4f}" for key, value in scores.items()
             if isinstance(value, float) and key in _HEADLINE]
    n_pairs = scores["hierarchy_pairs"]
    if n_pairs:
        lines.append(f"{'hierarchy_consistency':28s} {scores['hierarchy_consistency']:.4f} "
                     f"(lowest of {n_pairs} {'dependency' if n_pairs == 1 else 'dependencies'})")
    else:
        lines.append(f"{'hierarchy_consistency':28s} no dependency found")
    if scores["level_rules"]:
        lines.append(f"{'level_rule_consistency':28s} {scores['level_rule_consistency']:.4f} "
                     f"({scores['level_rules']} level-wise implications)")
    sys.stdout.write("\n".join(lines) + f"\nwrote {args.out}\n")
    return 0


_HEADLINE = ("quality", "column_shapes", "pair_trends", "pair_trends_all_pairs", "alpha_precision", "beta_recall",
             "ml_efficacy_synthetic", "ml_efficacy_real", "detection_auc", "dcr_share_closer_to_train",
             "exact_copies", "privacy_epsilon")


def run_report(argv: Sequence[str]) -> int:
    """Run ``tabgan report`` with ``argv`` (the words after ``report``); return the exit code.

    Errors in the input (missing file, bad table or metadata) print one line to stderr and
    return 2, as the other subcommands do.
    """
    from ..exceptions import InvalidDataError, ModelFileError

    parser = argparse.ArgumentParser(prog="tabgan")
    add_report_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *argv])
    try:
        return int(args.func(args))
    except (FileNotFoundError, InvalidDataError, ModelFileError, ValueError) as exc:
        sys.stderr.write(f"tabgan report: error: {exc}\n")
        return 2
