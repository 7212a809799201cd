"""Checks of the estimator's parameters and of ``sample``'s arguments, run before any work.

scikit-learn's declarative ``_parameter_constraints`` (``Interval``, ``StrOptions``) would do
much of this, but they live in the private ``sklearn.utils._param_validation`` and word their
own messages, while tabgan's messages name the parameter first (``"epochs must be an integer
>= 1; got 0."``), which the command line rewrites into flag names. So the checks stay here,
in one place.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._random import resolve_seed
from .nn.precision import PRECISIONS
from .training.device import resolve_device, resolve_threads
from .transformers.numeric import TABLE_ENCODINGS

__all__ = ["check_params", "check_positive_int", "check_positive_float", "check_n"]


def check_positive_int(name: str, value, *, allow_none: bool = False, minimum: int = 1) -> None:
    """``value`` is an integer (not a bool) >= ``minimum``, or None where allowed; else ValueError."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")


def check_n(n) -> None:
    """A row count: a non-negative integer (TypeError for another type, ValueError below 0)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be a non-negative integer; got {n!r} of type {type(n).__name__}.")
    if n < 0:
        raise ValueError(f"n must be a non-negative integer; got {n}.")


def check_positive_float(name: str, value, *, allow_zero: bool = False) -> None:
    """``value`` is a finite real number > 0 (>= 0 with ``allow_zero``); else ValueError."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} number; got {value!r}.")


def check_params(params: dict) -> None:
    """Check the estimator's parameters (``get_params()``); the first problem raises.

    The differential-privacy parameters are checked, all problems at once, by
    :func:`tabgan.training.privacy.check_config` when ``epsilon`` is set.
    """
    check_positive_int("epochs", params["epochs"], allow_none=True)
    check_positive_int("batch_size", params["batch_size"], allow_none=True)
    check_positive_int("embedding_dim", params["embedding_dim"])
    check_positive_int("pac", params["pac"])
    check_positive_int("discriminator_steps", params["discriminator_steps"])
    check_positive_int("max_fit_rows", params["max_fit_rows"], minimum=100)
    if params["numeric_encoding"] not in TABLE_ENCODINGS:
        raise ValueError(f"numeric_encoding must be one of {TABLE_ENCODINGS}; got {params['numeric_encoding']!r}.")
    for name in ("generator_dims", "discriminator_dims"):
        dims = params[name]
        if dims is None:
            continue
        if not isinstance(dims, (tuple, list)) or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0 for d in dims
        ):
            raise ValueError(f"{name} must be a tuple of positive integers; got {dims!r}.")
    for name in ("generator_lr", "discriminator_lr"):
        if params[name] is not None:
            check_positive_float(name, params[name])
    check_positive_float("weight_decay", params["weight_decay"], allow_zero=True)
    if params["gradient_penalty"] is not None:
        check_positive_float("gradient_penalty", params["gradient_penalty"], allow_zero=True)
    average = params["generator_average"]
    if average is not None and not (isinstance(average, numbers.Real) and not isinstance(average, bool)
                                    and 0 <= average < 1):
        raise ValueError(f"generator_average must be a number in [0, 1) (the decay of the moving average of the "
                         f"generator's weights; 0 keeps the trained generator itself); got {average!r}.")
    resolve_device(params["device"])
    if params["wide_head"] not in ("factor", "mixture"):
        raise ValueError(f"wide_head must be 'factor' or 'mixture'; got {params['wide_head']!r}.")
    if params["precision"] not in PRECISIONS:
        raise ValueError(f"precision must be one of {tuple(PRECISIONS)}; got {params['precision']!r}.")
    if params["precision"] != "float32" and params["epsilon"] is not None:
        raise ValueError(f"precision={params['precision']!r} is not available with differential privacy (the "
                         "per-sample gradients are computed in float32); leave precision='float32'.")
    resolve_threads(params["threads"])
    for name in ("keep_best", "calibrate", "dependencies", "verbose"):
        if not isinstance(params[name], (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {params[name]!r}.")
    if not isinstance(params["random_state"], np.random.Generator):  # a Generator is consumed only in fit
        resolve_seed(params["random_state"])
