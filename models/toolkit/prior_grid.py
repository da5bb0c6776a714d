"""Which priors a reanalysis uses: the primary pair, the grid, and priors the user writes on the command line.

* Ratio measures (OR, RR): the grid is the 8 heterogeneity presets for log-ratio analyses x the 4 effect presets
  (:data:`RATIO_TAU_GRID` x :data:`RATIO_EFFECT_GRID`); primary by default: Turner 2015, general setting (an
  empirical prior for any binary outcome) and Normal(0, 1) on the log ratio.
* SMD: Rhodes 2015 (primary by default), HalfNormal(0.5), HalfNormal(1), HalfCauchy(1) x weakly informative and vague.
* MD, RD: no preset is on the outcome's scale, so both priors must be given (``halfnormal(5)``, ``normal(0, 10)``);
  the grid is then the one pair.

A prior on the command line is a preset key (``--list-priors``) or a written distribution: ``halfnormal(SCALE)``,
``halfcauchy(SCALE)``, ``lognormal_tau2(M, S)``, ``invgamma(ALPHA, BETA)`` for tau and ``normal(MEAN, SD)`` for the
effect (analysis scale: log OR / log RR for ratios). Written priors are labelled "user-specified".
"""

from __future__ import annotations

import re

from models.priors import EFFECT_PRESETS, TAU_FAMILIES, TAU_PRESETS, EffectPrior, TauPrior

RATIO_TAU_GRID = (
    "turner2015_mortality_pharma",
    "turner2015_mortality_nonpharma",
    "turner2015_general",
    "turner2012_mortality_pharma",
    "halfnormal_0.5",
    "halfnormal_1",
    "halfcauchy_1",
    "invgamma_bartos2023",
)
RATIO_EFFECT_GRID = ("weakly_informative", "vague", "sceptical", "enthusiastic")
SMD_TAU_GRID = ("rhodes2015_smd_general", "halfnormal_0.5", "halfnormal_1", "halfcauchy_1")
SMD_EFFECT_GRID = ("weakly_informative", "vague")
DEFAULT_TAU = {"OR": "turner2015_general", "RR": "turner2015_general", "SMD": "rhodes2015_smd_general"}
DEFAULT_EFFECT = {"OR": "weakly_informative", "RR": "weakly_informative", "SMD": "weakly_informative"}
USER = "user-specified on the command line"
_CALL = re.compile(r"^\s*([a-z_0-9]+)\s*\(([^()]*)\)\s*$")


class PriorError(ValueError):
    """A prior option names no preset and is no valid written distribution; the message says which."""


def _call(text: str) -> tuple[str, tuple[float, ...]] | None:
    match = _CALL.match(text.lower())
    if match is None:
        return None
    try:
        args = tuple(float(a) for a in match[2].split(",")) if match[2].strip() else ()
    except ValueError:
        raise PriorError(f"prior {text!r}: the parameters must be numbers") from None
    return match[1], args


def parse_tau_prior(text: str) -> TauPrior:
    """A tau prior from a preset key or a written distribution (module docstring)."""
    if text in TAU_PRESETS:
        return TAU_PRESETS[text]
    call = _call(text)
    if call is None or call[0] not in TAU_FAMILIES:
        raise PriorError(
            f"unknown tau prior {text!r}: give a preset ({', '.join(TAU_PRESETS)}) or e.g. 'halfnormal(0.5)' "
            f"(families: {', '.join(TAU_FAMILIES)})"
        )
    family, args = call
    names = TAU_FAMILIES[family]
    if len(args) != len(names):
        raise PriorError(f"tau prior {text!r}: {family} takes {len(names)} parameter(s) ({', '.join(names)})")
    key = f"{family}_{'_'.join(f'{a:g}' for a in args)}"
    try:
        return TauPrior(
            key, f"{family}({', '.join(f'{a:g}' for a in args)})", family, tuple(zip(names, args, strict=True)), USER
        )
    except ValueError as err:
        raise PriorError(f"tau prior {text!r}: {err}") from None


def parse_effect_prior(text: str, measure: str) -> EffectPrior:
    """An effect prior from a preset key (log-ratio scale: OR/RR, or SMD) or ``normal(MEAN, SD)``."""
    if text in EFFECT_PRESETS:
        if measure not in ("OR", "RR", "SMD"):
            raise PriorError(
                f"effect prior preset {text!r} is on the log-ratio scale; for {measure} write 'normal(MEAN, SD)' "
                "on the outcome's scale"
            )
        return EFFECT_PRESETS[text]
    call = _call(text)
    if call is None or call[0] != "normal" or len(call[1]) != 2:
        raise PriorError(
            f"unknown effect prior {text!r}: give a preset ({', '.join(EFFECT_PRESETS)}) or 'normal(MEAN, SD)'"
        )
    mean, sd = call[1]
    try:
        return EffectPrior(
            f"normal_{mean:g}_{sd:g}", f"Normal({mean:g}, {sd:g})", mean, sd, USER, log_scale=measure in ("OR", "RR")
        )
    except ValueError as err:
        raise PriorError(f"effect prior {text!r}: {err}") from None


def primary_priors(measure: str, tau: str | None, effect: str | None) -> tuple[TauPrior, EffectPrior]:
    """The primary pair: the user's choices, else the measure's defaults; MD and RD need both given."""
    if tau is None and measure not in DEFAULT_TAU:
        raise PriorError(f"--measure {measure} needs --tau-prior on the outcome's scale, e.g. 'halfnormal(5)'")
    if effect is None and measure not in DEFAULT_EFFECT:
        raise PriorError(f"--measure {measure} needs --effect-prior on the outcome's scale, e.g. 'normal(0, 10)'")
    return parse_tau_prior(tau or DEFAULT_TAU[measure]), parse_effect_prior(effect or DEFAULT_EFFECT[measure], measure)


def prior_grid(
    measure: str, primary: tuple[TauPrior, EffectPrior]
) -> tuple[tuple[TauPrior, ...], tuple[EffectPrior, ...]]:
    """Tau priors and effect priors of the sensitivity grid; the primary pair is always in it."""
    tau, effect = primary
    if measure in ("OR", "RR"):
        taus, effects = RATIO_TAU_GRID, RATIO_EFFECT_GRID
    elif measure == "SMD":
        taus, effects = SMD_TAU_GRID, SMD_EFFECT_GRID
    else:
        taus, effects = (), ()
    tau_list = [TAU_PRESETS[k] for k in taus]
    effect_list = [EFFECT_PRESETS[k] for k in effects]
    if tau not in tau_list:
        tau_list.insert(0, tau)
    if effect not in effect_list:
        effect_list.insert(0, effect)
    return tuple(tau_list), tuple(effect_list)


def list_priors() -> str:
    """The presets, one per line, each with its distribution, median / 95% range and source."""
    lines = ["Heterogeneity (tau) priors, --tau-prior KEY (or e.g. 'halfnormal(0.5)'):"]
    lines += [f"  {key:32s} {prior}" for key, prior in TAU_PRESETS.items()]
    lines += ["Effect priors, --effect-prior KEY (log OR / log RR / SMD scale; or 'normal(MEAN, SD)'):"]
    lines += [f"  {key:32s} {prior}" for key, prior in EFFECT_PRESETS.items()]
    lines += [
        "Defaults: OR/RR turner2015_general + weakly_informative; SMD rhodes2015_smd_general + weakly_informative; "
        "MD/RD: both must be given on the outcome's scale."
    ]
    return "\n".join(lines)
