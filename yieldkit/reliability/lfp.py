"""Limited failure population (defective subpopulation) Weibull.

Only a fraction ``p`` of the units is defective and can fail at all (within
the time scale of the test); the rest never fail. The population CDF is
``F*(t) = p * F_W(t; beta, eta)``, which levels off at ``p``. In burn-in the
defective subpopulation is the infant-mortality population (Weibull shape
< 1), and ``p`` the fraction of latent defects.

Likelihood contributions (Meeker 1987): exact ``ln p + ln f_W(t)``;
right-censored ``ln(1 - p F_W(l))``; left-censored ``ln p + ln F_W(u)``;
interval ``ln p + ln(F_W(u) - F_W(l))``. Written here (neither scipy nor
lifelines has it; surpyval has it with ``lfp=True`` and is the tests'
reference on Meeker's circuit-pack data), fitted by the shared engine of
:mod:`~yieldkit.reliability.fitters`. The default intervals are profile
likelihood-ratio ones: the Fisher interval of ``p`` is poor when the
failures have not levelled off and meaningless when ``p`` is near 1
(Meeker & Escobar 1998, section 11.5). When the maximum is at ``p = 1``
(every unit can fail: a plain Weibull) ``p`` has no Fisher information;
its interval is then always the profile one, reaching 1, and ``beta``,
``eta`` get the information of the Weibull at ``p = 1``.

References
----------
W. Q. Meeker, "Limited failure population life tests: application to
integrated circuit reliability", Technometrics 29(1) (1987) 51-65.
W. Q. Meeker, L. A. Escobar, *Statistical Methods for Reliability Data*,
Wiley 1998, section 11.5.
JEDEC JESD74, "Early Life Failure Rate Calculation Procedure".
"""

from __future__ import annotations

import numpy as np

from yieldkit.errors import InputError
from yieldkit.reliability._mle import Transform
from yieldkit.reliability.distributions import Weibull, log_interval_prob
from yieldkit.reliability.fitters import ParametricFitter, _scale_start

__all__ = ["LFPWeibullFitter"]


class LFPWeibullFitter(ParametricFitter):
    """Weibull with a defective fraction: ``F*(t) = p (1 - exp(-(t / eta) ** beta))``.

    Fitted: ``p_`` (defective fraction [-]), ``beta_`` (shape [-]),
    ``eta_`` (scale of the defective units [h]).

    Examples
    --------
    >>> t = np.array([0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0])
    >>> fit = LFPWeibullFitter().fit(np.append(t, 1000.0), count=[1] * 9 + [991], event=[1] * 9 + [0])
    >>> round(fit.p_, 4), round(fit.beta_, 2)
    (0.009, 0.54)
    >>> fit.summary.loc["p", "ci_method"]
    'likelihood-ratio'
    """

    _param_names = ("p", "beta", "eta")
    _units = ("-", "-", "h")
    _distribution = "lfp-weibull"
    _ci_default = "likelihood-ratio"
    _min_failures = 2

    def __init__(self, alpha: float = 0.05) -> None:
        super().__init__(alpha)
        self._dist = Weibull

    def _transforms(self, data):
        return [Transform("logit", 0.0, 1.0), Transform("log"), Transform("log")]

    def _starts(self, data):
        frac = data.n_failures / data.n_units
        failed = data.subset(~data.is_right)
        out = []
        for p0 in (min(0.999, 1.2 * frac), min(0.999, 3 * frac), 0.5 * (1 + frac)):
            for b in (0.5, 1.0, 2.0):
                out.append([p0, b, _scale_start(failed, b)])
        return out

    def _at_boundary(self, theta):
        return [0] if theta[0] > 1 - 1e-6 else []

    def _loglik(self, theta, data):
        p, beta, eta = theta
        lo, hi, n = data.lower_h, data.upper_h, data.count
        exact, right = data.is_exact, data.is_right
        cens = ~exact & ~right
        lp = np.log(p)
        total = 0.0
        if exact.any():
            total += float(np.dot(n[exact], lp + Weibull.logpdf(lo[exact], beta, eta)))
        if right.any():
            total += float(np.dot(n[right], np.log1p(-p * np.exp(Weibull.logcdf(lo[right], beta, eta)))))
        if cens.any():
            l, u = lo[cens], hi[cens]
            with np.errstate(divide="ignore"):
                lcl, lcu = Weibull.logcdf(l, beta, eta), Weibull.logcdf(u, beta, eta)
            v = log_interval_prob(lcl, lcu, Weibull.logsf(l, beta, eta), Weibull.logsf(u, beta, eta))
            total += float(np.dot(n[cens], lp + v))
        return total

    def cdf(self, t_h):
        """Population probability of failure by ``t_h`` [h]: ``p F_W(t)`` [-]."""
        self._require_fitted()
        return self.p_ * np.exp(Weibull.logcdf(np.asarray(t_h, float), self.beta_, self.eta_))

    def sf(self, t_h):
        """Population survival ``1 - p F_W(t)`` [-]."""
        return 1.0 - self.cdf(t_h)

    def hazard(self, t_h):
        """Population hazard ``p f_W(t) / (1 - p F_W(t))`` [1/h]."""
        self._require_fitted()
        t = np.asarray(t_h, float)
        return self.p_ * np.exp(Weibull.logpdf(t, self.beta_, self.eta_)) / self.sf(t)

    def percentile(self, q):
        """Time [h] by which a fraction ``q`` of the population has failed; inf when ``q >= p``."""
        self._require_fitted()
        q = np.asarray(q, float)
        if ((q <= 0) | (q >= 1)).any():
            raise InputError("must be in (0, 1)", parameter="q")
        with np.errstate(all="ignore"):
            return np.where(q < self.p_, Weibull.ppf(np.minimum(q / self.p_, 1 - 1e-16), self.beta_, self.eta_),
                            np.inf)
