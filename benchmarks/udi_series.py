"""Time parse_udi_series on 1,000,000 UDIs with about 200,000 distinct values."""

import time

import numpy as np
import pandas as pd
from biip.checksums import gs1_standard_check_digit

from toolkit.udi import GS, parse_udi_series

rng = np.random.default_rng(7)
n_gtin, n_unique, n_rows = 2_000, 200_000, 1_000_000
gtins = []
for _ in range(n_gtin):
    body = "0" + "".join(map(str, rng.integers(0, 10, 12)))
    gtins.append(body + str(gs1_standard_check_digit(body)))
uniques = []
for i in range(n_unique):
    g = gtins[rng.integers(n_gtin)]
    exp = f"{rng.integers(25, 31):02d}{rng.integers(1, 13):02d}{rng.integers(0, 29):02d}"
    lot = f"L{rng.integers(10**6):06d}"
    serial = f"S{i:09d}"
    form = i % 4
    if form == 0:
        uniques.append(f"(01){g}(17){exp}(10){lot}(21){serial}")
    elif form == 1:
        uniques.append(f"01{g}17{exp}10{lot}{GS}21{serial}")
    elif form == 2:
        uniques.append(f"]d201{g}17{exp}10{lot}{GS}21{serial}")
    else:  # about 1 in 40 rows carries a defect
        bad = serial + "~" if i % 40 == 3 else serial
        uniques.append(f"]C101{g}17{exp}10{lot}{GS}21{bad}")
series = pd.Series(
    np.array(uniques, dtype=object)[rng.integers(n_unique, size=n_rows)], dtype="str"
)
for label, s in (("str dtype", series), ("object dtype", series.astype(object))):
    start = time.perf_counter()
    frame = parse_udi_series(s, reference_year=2026)
    took = time.perf_counter() - start
    print(
        f"{label}: {len(s):,} UDIs, {s.nunique():,} distinct: {took:.2f} s; "
        f"{frame['error'].notna().sum():,} with errors"
    )
