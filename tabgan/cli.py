"""Command line: ``tabgan fit | sample | report | demo``.

Thin by design: defaults come from :class:`tabgan.Synthesizer`'s signature, not repeated here.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
import time
from pathlib import Path

__all__ = ["main"]

logger = logging.getLogger("tabgan")


def _estimator_defaults() -> dict:
    from .synthesizer import Synthesizer

    sig = inspect.signature(Synthesizer.__init__)
    return {name: p.default for name, p in sig.parameters.items() if name != "self"}


def _read_json(path: str | None) -> dict | None:
    if path is None:
        return None
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"No metadata file at {p}.")
    with p.open(encoding="utf-8") as fh:
        return json.load(fh)


def _read_csv(path: str):
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"No CSV file at {p}.")
    return pd.read_csv(p, skipinitialspace=True)


def _add_fit_options(parser: argparse.ArgumentParser) -> None:
    defaults = _estimator_defaults()
    parser.add_argument("--metadata", help="JSON with column kinds: {\"columns\": {name: kind}}")
    parser.add_argument("--epochs", type=int, default=defaults["epochs"],
                        help=f"training epochs (default: {defaults['epochs']}, i.e. automatic)")
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"],
                        help="rows per step (default: 500, or 1000 under differential privacy)")
    parser.add_argument("--device", default=defaults["device"], help=f"default: {defaults['device']}")
    parser.add_argument("--seed", type=int, default=defaults["random_state"], help="random_state")
    for name in ("epsilon", "delta"):
        if name in defaults:
            parser.add_argument(f"--{name}", type=float, default=defaults[name],
                                help=f"differential privacy {name} (default: {defaults[name]}: no DP)")


def _make_model(args):
    from .synthesizer import Synthesizer

    kwargs = {"epochs": args.epochs, "batch_size": args.batch_size, "device": args.device,
              "random_state": args.seed, "verbose": not args.quiet}
    for name in ("epsilon", "delta"):
        if getattr(args, name, None) is not None:
            kwargs[name] = getattr(args, name)
    return Synthesizer(**kwargs)


def _print_ledger(model, out) -> None:
    ledger = getattr(model, "privacy_spent_", None)
    if not ledger:
        out.write("privacy: trained without differential privacy\n")
        return
    out.write(f"privacy: ({ledger['epsilon']:.4g}, {ledger['delta']:.3g})-DP per {ledger.get('unit', 'row')}\n")
    for mech in ledger.get("mechanisms", []):
        out.write(f"  - {mech['name']}: epsilon {mech['epsilon']:.4g}, delta {mech.get('delta', 0):.3g}\n")


def cmd_fit(args) -> int:
    df = _read_csv(args.data)
    metadata = _read_json(args.metadata)
    model = _make_model(args)
    start = time.perf_counter()
    model.fit(df, metadata=metadata)
    model.save(args.output)
    print(f"fitted on {len(df)} rows x {df.shape[1]} columns in {time.perf_counter() - start:.1f}s; "
          f"model written to {args.output}")
    _print_ledger(model, sys.stdout)
    return 0


def cmd_sample(args) -> int:
    from .synthesizer import Synthesizer

    model = Synthesizer.load(args.model)
    conditions = json.loads(args.conditions) if args.conditions else None
    synthetic = model.sample(args.n, conditions=conditions, random_state=args.seed)
    synthetic.to_csv(args.output, index=False)
    print(f"wrote {len(synthetic)} synthetic rows to {args.output}")
    _print_ledger(model, sys.stdout)
    return 0


def _summary(real, synthetic, schema) -> str:
    """A short side-by-side summary: per column, kind and a headline statistic."""
    lines = [f"{'column':<22}{'kind':<13}{'real':>26}{'synthetic':>26}"]
    for spec in schema:
        r, s = real[spec.name], synthetic[spec.name]
        if spec.kind in ("continuous", "integer"):
            rv = f"mean {r.mean():.4g} sd {r.std():.3g}"
            sv = f"mean {s.mean():.4g} sd {s.std():.3g}"
        else:
            top = r.value_counts(normalize=True).index[0]
            rv = f"{str(top)[:12]} {r.eq(top).mean():.0%}"
            sv = f"{str(top)[:12]} {s.eq(top).mean():.0%}"
        miss = f" ({r.isna().mean():.0%}/{s.isna().mean():.0%} missing)" if r.isna().any() else ""
        lines.append(f"{spec.name[:21]:<22}{spec.kind:<13}{rv:>26}{sv:>26}{miss}")
    return "\n".join(lines)


def cmd_demo(args) -> int:
    from .datasets import DEMO_METADATA, load_demo
    from .synthesizer import Synthesizer

    import torch

    # A 344-row table trains fastest on one thread (and is not slowed by other busy cores).
    torch.set_num_threads(1)
    real = load_demo()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = Synthesizer(random_state=args.seed, verbose=not args.quiet, epochs=args.epochs)
    start = time.perf_counter()
    model.fit(real, metadata=DEMO_METADATA)
    fit_s = time.perf_counter() - start
    synthetic = model.sample(len(real), random_state=args.seed)
    path = out_dir / "penguins_synthetic.csv"
    synthetic.to_csv(path, index=False)
    model.save(out_dir / "penguins.tabgan")
    print(f"demo: fitted on the Palmer penguins table ({len(real)} rows) in {fit_s:.1f}s, "
          f"{model.epochs_} epochs")
    print(f"wrote {len(synthetic)} synthetic rows to {path} and the model to {out_dir / 'penguins.tabgan'}\n")
    print(_summary(real, synthetic, model.schema_))
    try:
        from .evaluation import FidelityReport

        scores = FidelityReport(real=real, synthetic=synthetic, metadata=DEMO_METADATA).scores
        print(f"\nquality {scores['quality']:.3f} (column shapes {scores['column_shapes']:.3f}, "
              f"pair trends {scores['pair_trends']:.3f}); 1.0 is a perfect match")
    except ImportError:  # evaluation extras missing
        pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    common.add_argument("-v", "--verbose", action="store_true", help="log each epoch")
    parser = argparse.ArgumentParser(prog="tabgan", description="Synthesize tabular data.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("fit", parents=[common], help="fit a model on a CSV file and save it")
    p.add_argument("data", help="CSV file")
    p.add_argument("-o", "--output", required=True, help="model file to write, e.g. model.tabgan")
    _add_fit_options(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("sample", parents=[common], help="sample rows from a saved model into a CSV file")
    p.add_argument("model", help="model file written by 'tabgan fit'")
    p.add_argument("-n", type=int, required=True, help="number of rows")
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    p.add_argument("--conditions", help='JSON, e.g. \'{"sex": "Female"}\'')
    p.add_argument("--seed", type=int, default=None, help="random_state of this draw")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("demo", parents=[common], help="fit and sample the bundled penguins table")
    p.add_argument("--out-dir", default="tabgan-demo", help="folder for the outputs (default: tabgan-demo)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=_estimator_defaults()["epochs"])
    p.set_defaults(func=cmd_demo)

    try:
        from .evaluation.cli import add_report_parser
    except ImportError:
        add_report_parser = None
    if add_report_parser is not None:
        add_report_parser(sub, parents=[common])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from .exceptions import InvalidDataError, ModelFileError, PrivacyConfigError

    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, InvalidDataError, ModelFileError, PrivacyConfigError, ValueError, TypeError) as exc:
        print(f"tabgan {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
