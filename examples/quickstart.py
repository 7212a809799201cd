"""Quick start: fit on the bundled penguins table, sample, condition, save and load.

Runs in a few seconds on a laptop CPU (few epochs: this shows the API, not the quality;
drop ``epochs=`` to let tabgan choose).
"""

from pathlib import Path
import tempfile

from tabgan import Synthesizer, load_demo

real = load_demo()
model = Synthesizer(epochs=20, random_state=0, verbose=False).fit(real)

synthetic = model.sample(500)
assert list(synthetic.columns) == list(real.columns)
assert (synthetic.dtypes == real.dtypes).all()
print(synthetic.head())

# Every row satisfies the condition.
gentoo = model.sample(100, conditions={"species": "Gentoo"})
assert (gentoo["species"] == "Gentoo").all()
print(gentoo["island"].value_counts())

# A saved model samples exactly what the original samples for the same seed.
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "penguins.tabgan"
    model.save(path)
    again = Synthesizer.load(path)
    assert again.sample(10, random_state=1).equals(model.sample(10, random_state=1))
print("quickstart ok")
