"""Write scikit-learn's digits data set to data/digits.csv (64 pixel columns and the label y)."""

from pathlib import Path

import pandas as pd
from sklearn import datasets

if __name__ == "__main__":
    digits = datasets.load_digits()
    frame = pd.DataFrame(digits.data)
    frame["y"] = digits.target
    out = Path(__file__).parent / "data" / "digits.csv"
    out.parent.mkdir(exist_ok=True)
    frame.to_csv(out, index=False)
    print(f"wrote {len(frame)} rows to {out}")
