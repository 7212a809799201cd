"""Exception and warning classes raised by tabgan.

Every class subclasses a built-in (``ValueError``, ``AttributeError``) so that code written
against scikit-learn conventions catches them without importing tabgan; ``NotFittedError`` is
a subclass of scikit-learn's own.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "NotFittedError",
    "InvalidDataError",
    "PrivacyConfigError",
    "ModelFileError",
    "ConditionError",
    "TabganWarning",
]


class NotFittedError(_SklearnNotFittedError):
    """Raised when a method that needs a fitted model is called before ``fit`` (a
    ``ValueError`` and an ``AttributeError``, as scikit-learn's, which it subclasses)."""


class InvalidDataError(ValueError):
    """Raised when the input table (or a parameter about it) cannot be modelled."""


class ConditionError(InvalidDataError):
    """Raised when ``sample(conditions=...)`` names an unknown column or value, or asks for
    a combination the model cannot produce within its rejection budget."""


class PrivacyConfigError(ValueError):
    """Raised before training when the differential-privacy settings cannot be honoured."""


class ModelFileError(ValueError):
    """Raised when a saved model file is corrupt, truncated, unsafe or of a newer format."""


class TabganWarning(UserWarning):
    """Base class of the warnings tabgan emits."""
