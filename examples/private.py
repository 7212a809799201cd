"""Differential privacy: fit the bundled penguins table with epsilon 3, read the ledger,
sample.

Needs the ``dp`` extra (opacus). Parameters left unset take tabgan's DP defaults. The metadata
gives the column kinds and two public facts, the species studied and the study years (known
from the study's design, not read from the table); everything else (category sets, other bounds, missing rates, level
frequencies, row count) is released by DP mechanisms charged to the same budget.
"""

from tabgan import Synthesizer, load_demo

real = load_demo()
kinds = {"columns": {"species": {"kind": "categorical", "categories": ["Adelie", "Chinstrap", "Gentoo"]},
                     "island": "categorical", "sex": "categorical",
                     "bill_length_mm": "continuous", "bill_depth_mm": "continuous",
                     "flipper_length_mm": "integer", "body_mass_g": "integer",
                     "year": {"kind": "integer", "min": 2007, "max": 2009}}}
model = Synthesizer(epsilon=3.0, delta=1e-5, random_state=0, verbose=False).fit(real, metadata=kinds)

ledger = model.privacy_spent_
assert ledger["epsilon"] <= 3.0 and ledger["unit"] == "row"
for mechanism in ledger["mechanisms"]:
    print(f"{mechanism['name']:<55} epsilon {mechanism['epsilon']:.3f}")
print(f"total: epsilon {ledger['epsilon']:.3f}, delta {ledger['delta']:.1e} (composed, not summed)")

synthetic = model.sample(300)
assert list(synthetic.columns) == list(real.columns)
assert synthetic["year"].between(2007, 2009).all()  # public bounds are kept exactly
assert set(synthetic["species"]) <= {"Adelie", "Chinstrap", "Gentoo"}  # public categories too
print(synthetic.head())
print("private ok")
