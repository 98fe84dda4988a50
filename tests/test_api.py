"""The Python API (``seal.estimate``): what it accepts, the sentence it raises for a row it cannot use, and the
warnings it attaches (the CLI's own behaviour is in tests/test_cli.py)."""
from __future__ import annotations

import re

import pandas as pd
import pytest

import seal


def test_api_rejects_what_it_cannot_read_and_checks_rows():
    one = {"model": "gpt-4o", "input_tokens": 10, "output_tokens": 5}
    assert len(seal.estimate(one)) == 1                      # a dict of scalars is one request
    with pytest.raises(seal.SealError, match="must be a pandas DataFrame, a dict of columns or None, not list"):
        seal.estimate([1, 2])
    frame = pd.DataFrame({"model": ["gpt-4o"], "input_tokens": [10], "output_tokens": [5]})
    for options, message in [({"gpus": 1.5}, "gpus must be a whole number"),
                             ({"params_b": 3, "active_params_b": 30}, "active_params_b (30) is larger than params_b"),
                             ({"latency_s": 1, "ttft_s": 5}, "ttft_s (5 s) is longer than latency_s (1 s)"),
                             ({"batch_size": 100_000}, "batch_size is 100000, far above any real value")]:
        with pytest.raises(seal.SealError, match=re.escape(message)):
            seal.estimate(frame, **options)


def test_too_few_gpus_for_the_weights_is_warned():
    frame = pd.DataFrame({"model": ["meta-llama/Meta-Llama-3.1-405B-Instruct"] * 2, "input_tokens": [500] * 2,
                          "output_tokens": [200] * 2, "gpus": [1, None]})
    out = seal.estimate(frame, gpu="H100")
    assert out["gpus"].tolist() == [1, 16]
    assert ["gpus-below-memory" in w.split(";") for w in out["warnings"]] == [True, False]
