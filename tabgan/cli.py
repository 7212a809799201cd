"""Command line: ``tabgan fit | sample | report | demo``.

Thin by design: defaults come from :class:`tabgan.Synthesizer`'s signature, not repeated here.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import re
import sys
import time
from pathlib import Path

from ._io import read_csv
from .training.callbacks import format_seconds

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
    if not p.is_file():
        raise FileNotFoundError(f"No metadata file at {p}.")
    with p.open(encoding="utf-8") as fh:
        return json.load(fh)


#: Estimator parameters the command line sets through a flag of another name.
_FLAGS = {"random_state": "--seed", "resume_from": "--resume"}


def _as_flags(message: str) -> str:
    """Name the command line's flags where a library message names keyword arguments
    (``delta=1e-5`` becomes ``--delta 1e-5``)."""
    names = set(_estimator_defaults()) | {"discrete_columns", "checkpoint", "checkpoint_every", "resume_from"}

    def flag(match: re.Match) -> str:
        name = match.group(1)
        return f"{_FLAGS.get(name, '--' + name.replace('_', '-'))} " if name in names else match.group(0)

    return re.sub(r"\b([a-z_]+)=(?!=)", flag, message)


def _add_fit_options(parser: argparse.ArgumentParser) -> None:
    defaults = _estimator_defaults()
    from .transformers.numeric import TABLE_ENCODINGS

    parser.add_argument("--sep", default=",", help="field separator of the CSV file (default: ',')")
    parser.add_argument("--metadata", help="JSON with column kinds: {\"columns\": {name: kind}}")
    parser.add_argument("--discrete-columns", metavar="A,B,...",
                        help="comma-separated columns to treat as categorical (a shortcut for --metadata)")
    parser.add_argument("--numeric-encoding", choices=TABLE_ENCODINGS, default=defaults["numeric_encoding"],
                        help=f"how numeric columns are encoded (default: {defaults['numeric_encoding']})")
    parser.add_argument("--epochs", type=int, default=defaults["epochs"],
                        help="training epochs (default: automatic, about 6,400 steps; the fit prints the count "
                             "and an estimate of the time)")
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"],
                        help="rows per step (default: 500, or 1000 under differential privacy)")
    parser.add_argument("--device", default=defaults["device"], help=f"default: {defaults['device']}")
    _add_threads_option(parser)
    parser.add_argument("--seed", type=int, default=defaults["random_state"], help="random_state")
    for name in ("epsilon", "delta"):
        parser.add_argument(f"--{name}", type=float, default=defaults[name],
                            help=f"differential privacy {name} (default: {defaults[name]}: no DP)")
    parser.add_argument("--checkpoint", help="write the training state to this file every --checkpoint-every "
                                             "epochs, so that an interrupted fit can go on with --resume")
    parser.add_argument("--checkpoint-every", type=int, default=1, help="epochs between checkpoints (default: 1)")
    parser.add_argument("--resume", help="checkpoint of an interrupted fit with the same settings on the same "
                                         "file: training continues from it")


def _add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=_estimator_defaults()["threads"],
                        help="CPU threads torch uses (default: 1, fastest for tabgan's small networks, above all "
                             "when other jobs share the cores)")


def _make_model(args):
    from .synthesizer import Synthesizer

    kwargs = {"epochs": args.epochs, "batch_size": args.batch_size, "device": args.device,
              "random_state": args.seed, "verbose": not args.quiet, "threads": args.threads,
              "numeric_encoding": args.numeric_encoding}
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
    if args.output == "-":
        raise ValueError("a model is a binary file: give a file name to -o, e.g. -o model.tabgan.")
    df = read_csv(args.data, sep=args.sep)
    metadata = _read_json(args.metadata)
    discrete = [c.strip() for c in args.discrete_columns.split(",") if c.strip()] if args.discrete_columns else None
    model = _make_model(args)
    start = time.perf_counter()
    model.fit(df, metadata=metadata, discrete_columns=discrete, checkpoint=args.checkpoint,
              checkpoint_every=args.checkpoint_every, resume_from=args.resume)
    from .training.distributed import is_main_process

    if not is_main_process():  # under torchrun every rank fits the same model; rank 0 writes it
        return 0
    model.save(args.output)
    print(f"fitted on {len(df)} rows x {df.shape[1]} columns in {format_seconds(time.perf_counter() - start)} "
          f"({model.epochs_} epochs); model written to {args.output}")
    _print_ledger(model, sys.stdout)
    return 0


def cmd_sample(args) -> int:
    from .synthesizer import Synthesizer

    model = Synthesizer.load(args.model)
    if args.threads is not None:
        model.set_params(threads=args.threads)
    conditions = json.loads(args.conditions) if args.conditions else None
    if conditions is not None and not isinstance(conditions, dict):
        raise ValueError(f'--conditions must be a JSON object such as \'{{"sex": "Female"}}\'; got {args.conditions!r}.')
    synthetic = model.sample(args.n, conditions=conditions, random_state=args.seed)
    # With "-o -" the rows go to stdout, so every message goes to stderr.
    to_stdout = args.output == "-"
    synthetic.to_csv(sys.stdout if to_stdout else args.output, index=False)
    messages = sys.stderr if to_stdout else sys.stdout
    if not args.quiet:
        messages.write(f"wrote {len(synthetic)} synthetic rows to {'stdout' if to_stdout else args.output}\n")
        _print_ledger(model, messages)
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
    from .evaluation import FidelityReport
    from .synthesizer import Synthesizer

    real = load_demo()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = Synthesizer(random_state=args.seed, verbose=not args.quiet, epochs=args.epochs, threads=args.threads)
    start = time.perf_counter()
    model.fit(real, metadata=DEMO_METADATA)
    fit_s = time.perf_counter() - start
    synthetic = model.sample(len(real), random_state=args.seed)
    path = out_dir / "penguins_synthetic.csv"
    synthetic.to_csv(path, index=False)
    model.save(out_dir / "penguins.tabgan")
    print(f"demo: fitted on the Palmer penguins table ({len(real)} rows) in {format_seconds(fit_s)}, "
          f"{model.epochs_} epochs")
    print(f"wrote {len(synthetic)} synthetic rows to {path} and the model to {out_dir / 'penguins.tabgan'}\n")
    print(_summary(real, synthetic, model.schema_))
    scores = FidelityReport(real=real, synthetic=synthetic, metadata=DEMO_METADATA).scores
    print(f"\nquality {scores['quality']:.3f} (column shapes {scores['column_shapes']:.3f}, "
          f"pair trends {scores['pair_trends']:.3f}); 1.0 is a perfect match")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__
    from .evaluation.cli import add_report_parser

    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and the result line")
    parser = argparse.ArgumentParser(prog="tabgan", description="Synthesize tabular data: fit a model on a CSV "
                                     "file, sample synthetic rows, compare them with the real ones.")
    parser.add_argument("--version", action="version", version=f"tabgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{fit,sample,report,demo}")

    p = sub.add_parser("fit", parents=[quiet], help="fit a model on a CSV file and save it",
                       description="Fit a synthesizer on a CSV file and save the model. Column kinds are inferred "
                                   "(or set with --metadata / --discrete-columns); the fit prints them, the epoch "
                                   "count, an estimate of the time after the first epoch, and a summary.")
    p.add_argument("data", help="CSV file")
    p.add_argument("-o", "--output", required=True, help="model file to write, e.g. model.tabgan")
    p.add_argument("-v", "--verbose", action="store_true", help="log each epoch's losses")
    _add_fit_options(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("sample", parents=[quiet], help="sample rows from a saved model into a CSV file",
                       description="Sample synthetic rows from a model written by 'tabgan fit'.")
    p.add_argument("model", help="model file written by 'tabgan fit'")
    p.add_argument("-n", type=int, required=True, help="number of rows")
    p.add_argument("-o", "--output", required=True, help="CSV file to write, or - for standard output")
    p.add_argument("--conditions", help='JSON, e.g. \'{"sex": "Female"}\': every row satisfies it')
    p.add_argument("--seed", type=int, default=None, help="random_state of this draw")
    _add_threads_option(p)
    p.set_defaults(func=cmd_sample, threads=None)

    p = sub.add_parser("demo", parents=[quiet], help="fit and sample the bundled penguins table",
                       description="Fit a model on the bundled Palmer penguins table (344 rows, CC0), write "
                                   "penguins_synthetic.csv and penguins.tabgan to --out-dir, and print a short "
                                   "real-vs-synthetic summary with the quality score. Under two minutes on 2 "
                                   "CPU cores.")
    p.add_argument("--out-dir", default="tabgan-demo", help="folder for the outputs (default: tabgan-demo)")
    p.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")
    p.add_argument("--epochs", type=int, default=_estimator_defaults()["epochs"],
                   help="training epochs (default: automatic)")
    _add_threads_option(p)
    p.set_defaults(func=cmd_demo)

    add_report_parser(sub, parents=[quiet])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from .exceptions import ConditionError, InvalidDataError, ModelFileError, PrivacyConfigError

    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, IsADirectoryError, InvalidDataError, ModelFileError, PrivacyConfigError,
            ConditionError, ValueError) as exc:
        print(f"tabgan {args.command}: error: {_as_flags(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
