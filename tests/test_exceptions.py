"""Exception classes: caught by the built-in and scikit-learn classes they stand for."""

import pytest
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from tabgan import Synthesizer
from tabgan.exceptions import NotFittedError


def test_not_fitted_is_sklearns_error_and_check_is_fitted_agrees():
    model = Synthesizer()
    with pytest.raises(NotFittedError, match=r"call fit\(df\) first") as info:
        model.sample(3)
    assert isinstance(info.value, (SklearnNotFittedError, ValueError, AttributeError))
    # Each one, not any of them: scikit-learn's class is what sklearn code catches.
    assert isinstance(info.value, SklearnNotFittedError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    model.generator_ = object()  # what __sklearn_is_fitted__ looks at
    check_is_fitted(model)
