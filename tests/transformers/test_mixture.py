"""The one-column mixture gives scikit-learn's BayesianGaussianMixture fit, faster."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture

from tabgan.transformers.mixture import fit_dp_mixture


@pytest.mark.parametrize("shape", ["bimodal", "skewed", "few_values"])
def test_same_fit_as_scikit_learn(shape):
    rng = np.random.default_rng(3)
    x = {"bimodal": np.r_[rng.normal(-2, 0.5, 1500), rng.normal(3, 1.0, 500)],
         "skewed": rng.lognormal(0, 1, 2000),
         "few_values": rng.integers(0, 6, 2000).astype(float)}[shape]
    reference = BayesianGaussianMixture(n_components=5, weight_concentration_prior_type="dirichlet_process",
                                        weight_concentration_prior=1e-3, max_iter=100, n_init=1, random_state=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(x.reshape(-1, 1))
    means, variances, weights = fit_dp_mixture(x, 5, weight_concentration_prior=1e-3, max_iter=100,
                                               random_state=11)
    np.testing.assert_allclose(means, reference.means_.ravel(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(variances, reference.covariances_.ravel(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(weights, reference.weights_, rtol=1e-8, atol=1e-10)


def test_too_few_values_is_refused():
    with pytest.raises(ValueError, match="at least n_components"):
        fit_dp_mixture(np.arange(3.0), 5, weight_concentration_prior=1e-3, max_iter=10, random_state=0)
