"""THE prior policy for a user's data: the default primary pair, the sensitivity grid, and written priors read to
canonical keys. ``reanalyse fit``, ``published`` and ``batch`` all take their priors from here, and every output
states the primary pair (:func:`statement`).

Default primary pair (no ``--tau-prior`` / ``--effect-prior`` given):

* **OR, RR and HR** (HR: a published estimate only, summary level): ``tau ~ Turner et al. 2015, general setting``
  (``log tau^2 ~ N(-2.56, 1.74^2)``; median tau 0.28, 95% range 0.05-1.5), an empirical prior from Cochrane
  meta-analyses of binary outcomes of any type and comparison, and ``mu ~ Normal(0, 1)`` on the log ratio (weakly
  informative: half the unit-information SD; Röver et al. 2021). Turner's priors were derived for log OR; applying
  them to log RR (or log HR) is an approximation, which Rhodes, Turner & Higgins 2016 discuss (they found similar
  between-study variation on the two scales).
* **SMD**: ``tau ~ Rhodes et al. 2015, general`` (``log tau^2 ~ t_5(-3.44, 2.59)``) and ``mu ~ Normal(0, 1)`` on the
  SMD (an SMD of 1 is a large effect).
* **MD, RD**: no preset is on the outcome's scale, so both priors must be written (e.g. ``'halfnormal(5)'``,
  ``'normal(0, 10)'``); a missing one is an error before any work.

Sensitivity grid (``fit`` and ``published`` always; ``batch --priors grid``): for ratios the 8 heterogeneity presets of
:data:`RATIO_TAU_GRID` x the 4 effect presets of :data:`RATIO_EFFECT_GRID` (32 pairs); for SMD 4 x 2 (8 pairs); for
MD and RD the primary pair alone. The primary pair is always in the grid, once.

Empirical pair (``batch --priors bartos2023``): Bartoš et al.'s priors fitted to the Cochrane database, ``tau ~
InvGamma`` and ``mu ~ Student-t`` (:data:`EMPIRICAL`): log OR ``t_4(0, 0.58)``, ``InvGamma(1.77, 0.55)``; log RR
``t_3(0, 0.32)``, ``InvGamma(1.51, 0.23)`` (2023); SMD ``t_5(0, 0.43)``, ``InvGamma(1.71, 0.40)`` (2021). The
binomial-normal model of a 2x2 file takes the log OR pair whatever the row's measure.

Written priors (the options' grammar): a preset key (``--list-priors``; case does not matter) or a distribution:
``halfnormal(SCALE)``, ``halfcauchy(SCALE)``, ``lognormal_tau2(M, S)``, ``logt_tau2(DF, LOC, SCALE)``,
``invgamma(ALPHA, BETA)`` for tau, ``normal(MEAN, SD)`` for the effect (analysis scale: log OR / log RR for
ratios). **One key per distribution, not per spelling**: a written prior equal to a preset is that preset
(``halfnormal(0.5)`` is ``halfnormal_0.5``, ``normal(0, 1)`` on a ratio or SMD is ``weakly_informative``); any other is
keyed by its canonical spelling (``halfnormal(0.7)``, ``normal(0, 10)``), which reads back to the same prior.

Nothing here loads numpy or scipy (nor does :mod:`models.priors` at import), so a command checks these options before
it loads the numerical stack.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from models.measures import LOG_SCALE_MEASURES, PUBLISHED_MEASURES
from models.priors import EFFECT_PRESETS, TAU_FAMILIES, TAU_PRESETS, EffectPrior, TauPrior
from models.student_t_prior import STUDENT_T_PRESETS, StudentTEffectPrior

RATIO_TAU_GRID = (
    "turner2015_mortality_pharma",
    "turner2015_mortality_nonpharma",
    "turner2015_general",
    "turner2012_mortality_pharma",
    "halfnormal_0.5",
    "halfnormal_1",
    "halfcauchy_1",
    "bartos2023_logor",
)
"""Heterogeneity presets of the sensitivity grid for ratios (log OR / log RR / log HR)."""
RATIO_EFFECT_GRID = ("weakly_informative", "vague", "sceptical", "enthusiastic")
"""Effect presets of the sensitivity grid for ratios."""
SMD_TAU_GRID = ("rhodes2015_smd_general", "halfnormal_0.5", "halfnormal_1", "halfcauchy_1")
SMD_EFFECT_GRID = ("weakly_informative", "vague")
DEFAULT_TAU = {"OR": "turner2015_general", "RR": "turner2015_general", "HR": "turner2015_general",
               "SMD": "rhodes2015_smd_general"}  # fmt: skip
"""The default heterogeneity prior by measure (none for MD and RD)."""
DEFAULT_EFFECT = {"OR": "weakly_informative", "RR": "weakly_informative", "HR": "weakly_informative",
                  "SMD": "weakly_informative"}  # fmt: skip
"""The default effect prior by measure (none for MD and RD)."""
EMPIRICAL = {"OR": "bartos2023_logor", "RR": "bartos2023_logrr", "SMD": "bartos2021_smd"}
"""Bartoš et al.'s empirical pair by measure (the same key for the tau prior in :data:`models.priors.TAU_PRESETS`
and the Student-t effect prior in :data:`models.student_t_prior.STUDENT_T_PRESETS`): 2023 for log OR and log RR,
2021 for the SMD."""
PRESET_SCALE_MEASURES = ("OR", "RR", "HR", "SMD")
"""Measures on whose analysis scale the effect presets are stated (log ratio, or SMD units)."""
WRITTEN = "written on the command line"
"""The citation of a written prior that equals no preset."""
APPROXIMATION = {
    "RR": "Turner's priors were derived for log OR; on log RR they are an approximation (Rhodes, Turner & Higgins "
    "2016 found similar between-study variation on both scales).",
    "HR": "Turner's priors were derived for log OR; on log HR they are an approximation.",
}
"""What a reader must know when a preset is applied on a scale other than the one it was derived on."""
_CALL = re.compile(r"^([a-z_0-9]+)\((.*)\)$")
_FAMILIES = ", ".join(f"{family}({', '.join(names)})" for family, names in TAU_FAMILIES.items())


class PriorError(ValueError):
    """A prior option names no preset and is no valid written distribution, or does not suit the measure; the message
    says which and what to write instead."""


@dataclass(frozen=True)
class PriorPair:
    """A heterogeneity prior and an effect prior, analysed together; ``primary`` marks the primary pair of a grid
    (not part of equality: the same two priors are the same pair)."""

    tau: TauPrior
    effect: EffectPrior | StudentTEffectPrior
    primary: bool = field(default=False, compare=False)

    @property
    def keys(self) -> tuple[str, str]:
        """(tau key, effect key): the pair's names in every output."""
        return self.tau.key, self.effect.key


def _number(x: float) -> str:
    """The shortest spelling that reads back to ``x`` (``0.5``, ``10``, ``1e-05``): written keys never collide."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _call(text: str, what: str) -> tuple[str, tuple[float, ...]] | None:
    """``family(a, b)`` read to (family, numbers); None when ``text`` is not of that form."""
    match = _CALL.match("".join(text.lower().split()))
    if match is None:
        return None
    try:
        args = tuple(float(a) for a in match[2].split(",")) if match[2] else ()
    except ValueError:
        raise PriorError(f"{what} {text!r}: the parameters must be numbers, e.g. 'halfnormal(0.5)'") from None
    if not all(a == a and abs(a) != float("inf") for a in args):
        raise PriorError(f"{what} {text!r}: the parameters must be finite numbers")
    return match[1], args


def parse_tau_prior(text: str) -> TauPrior:
    """The heterogeneity prior ``text`` names: a preset key, or a written distribution (the preset when it equals
    one). Raises :class:`PriorError` naming the problem."""
    key = text.strip().lower()
    if key in TAU_PRESETS:
        return TAU_PRESETS[key]
    call = _call(text, "--tau-prior")
    if call is None or call[0] not in TAU_FAMILIES:
        raise PriorError(
            f"--tau-prior {text!r} is no preset and no distribution: give a preset ({', '.join(TAU_PRESETS)}) or "
            f"write one, e.g. 'halfnormal(0.5)' (families: {_FAMILIES})"
        )
    family, args = call
    names = TAU_FAMILIES[family]
    if len(args) != len(names):
        raise PriorError(f"--tau-prior {text!r}: {family} takes {len(names)} parameter(s): {', '.join(names)}")
    params = tuple(zip(names, args, strict=True))
    for preset in TAU_PRESETS.values():
        if (preset.family, preset.params) == (family, params):
            return preset
    written = f"{family}({', '.join(_number(a) for a in args)})"
    try:
        return TauPrior(written, written, family, params, WRITTEN)
    except ValueError as err:
        raise PriorError(f"--tau-prior {text!r}: {err}") from None


def _on_scale(prior: EffectPrior, measure: str) -> EffectPrior:
    """An effect prior on the analysis scale of ``measure`` (presets print a ratio range; on SMD they must not)."""
    log_scale = measure in LOG_SCALE_MEASURES
    return prior if prior.log_scale == log_scale else dataclasses.replace(prior, log_scale=log_scale)


def _written_effect(text: str) -> tuple[float, float]:
    """(mean, sd) of a written ``normal(MEAN, SD)``; raises :class:`PriorError` naming what is wrong."""
    call = _call(text, "--effect-prior")
    if call is None or call[0] != "normal":
        raise PriorError(
            f"--effect-prior {text!r} is no preset and no distribution: give a preset "
            f"({', '.join(EFFECT_PRESETS)}) or write 'normal(MEAN, SD)' (analysis scale: log OR / log RR for ratios)"
        )
    if len(call[1]) != 2:
        raise PriorError(f"--effect-prior {text!r}: normal takes 2 parameters: mean, sd")
    mean, sd = call[1]
    if sd <= 0:
        raise PriorError(f"--effect-prior {text!r}: the sd must be positive")
    return mean, sd


def parse_effect_prior(text: str, measure: str) -> EffectPrior:
    """The effect prior ``text`` names for ``measure``: a preset key (OR, RR, HR, SMD only: the presets are on those
    scales) or ``normal(MEAN, SD)`` on the analysis scale (the preset when it equals one on those measures)."""
    key = text.strip().lower()
    if key in EFFECT_PRESETS:
        if measure not in PRESET_SCALE_MEASURES:
            raise PriorError(
                f"--effect-prior {text!r} is a preset on the log-ratio/SMD scale; for {measure} write "
                "'normal(MEAN, SD)' on the outcome's scale, e.g. 'normal(0, 10)'"
            )
        return _on_scale(EFFECT_PRESETS[key], measure)
    mean, sd = _written_effect(text)
    if measure in PRESET_SCALE_MEASURES:
        for preset in EFFECT_PRESETS.values():
            if (preset.mean, preset.sd) == (mean, sd):
                return _on_scale(preset, measure)
    written = f"normal({_number(mean)}, {_number(sd)})"
    return EffectPrior(written, written, mean, sd, WRITTEN, log_scale=measure in LOG_SCALE_MEASURES)


def primary_pair(measure: str, tau: str | None = None, effect: str | None = None) -> PriorPair:
    """The primary pair for ``measure``: the written priors, else the policy's defaults (module docstring).

    Raises :class:`PriorError` when ``measure`` is MD or RD and a prior is missing, or a text names no prior.
    """
    if measure not in PUBLISHED_MEASURES:
        raise PriorError(f"measure {measure!r} is not one of {', '.join(PUBLISHED_MEASURES)}")
    if tau is None and measure not in DEFAULT_TAU:
        raise PriorError(f"--measure {measure} has no default priors: give --tau-prior on the outcome's scale, "
                         "e.g. 'halfnormal(5)'")  # fmt: skip
    if effect is None and measure not in DEFAULT_EFFECT:
        raise PriorError(f"--measure {measure} has no default priors: give --effect-prior on the outcome's scale, "
                         "e.g. 'normal(0, 10)'")  # fmt: skip
    return PriorPair(
        parse_tau_prior(DEFAULT_TAU[measure] if tau is None else tau),
        parse_effect_prior(DEFAULT_EFFECT[measure] if effect is None else effect, measure),
        primary=True,
    )


def empirical_pair(measure: str) -> PriorPair:
    """Bartoš et al.'s empirical pair for ``measure`` (:data:`EMPIRICAL`; OR, RR and SMD), marked primary: the pair
    ``reanalyse batch --priors bartos2023`` runs. Raises :class:`PriorError` for another measure."""
    if measure not in EMPIRICAL:
        raise PriorError(f"Bartoš et al.'s empirical priors are for {', '.join(EMPIRICAL)}, not {measure}")
    key = EMPIRICAL[measure]
    return PriorPair(TAU_PRESETS[key], STUDENT_T_PRESETS[key], primary=True)


def sensitivity_grid(measure: str, primary: PriorPair) -> tuple[tuple[TauPrior, ...], tuple[EffectPrior, ...]]:
    """The tau priors and effect priors of the grid for ``measure``; the primary pair is in it, once (first when it
    is not a grid preset)."""
    if measure in LOG_SCALE_MEASURES:
        tau_keys, effect_keys = RATIO_TAU_GRID, RATIO_EFFECT_GRID
    elif measure == "SMD":
        tau_keys, effect_keys = SMD_TAU_GRID, SMD_EFFECT_GRID
    else:
        tau_keys, effect_keys = (), ()
    taus = [TAU_PRESETS[k] for k in tau_keys]
    effects = [_on_scale(EFFECT_PRESETS[k], measure) for k in effect_keys]
    if primary.tau not in taus:
        taus.insert(0, primary.tau)
    if primary.effect not in effects:
        effects.insert(0, primary.effect)
    return tuple(taus), tuple(effects)


def grid_pairs(measure: str, primary: PriorPair) -> tuple[PriorPair, ...]:
    """Every pair of the grid (tau priors outer), the primary pair first (marked ``primary``)."""
    taus, effects = sensitivity_grid(measure, primary)
    others = [PriorPair(t, e) for t in taus for e in effects if (t, e) != (primary.tau, primary.effect)]
    return (dataclasses.replace(primary, primary=True), *others)


@dataclass(frozen=True)
class PriorOptions:
    """``--tau-prior`` and ``--effect-prior`` as written (None: the policy's default), the same in every command.

    Construction checks what can be checked without the measure (a preset key or a well-formed distribution);
    :meth:`primary` resolves them for a measure (the effect presets suit only OR, RR, HR and SMD; MD and RD need
    both written). Raises :class:`PriorError`.
    """

    tau: str | None = None
    effect: str | None = None

    def __post_init__(self) -> None:
        if self.tau is not None:
            parse_tau_prior(self.tau)
        if self.effect is not None and self.effect.strip().lower() not in EFFECT_PRESETS:
            _written_effect(self.effect)

    def primary(self, measure: str) -> PriorPair:
        """The primary pair for ``measure``."""
        return primary_pair(measure, self.tau, self.effect)

    def written(self) -> bool:
        """Whether the user wrote either prior (otherwise both are the policy's defaults)."""
        return self.tau is not None or self.effect is not None


def statement(measure: str, primary: PriorPair, *, written: bool) -> str:
    """The sentence every output gives: the primary pair with sources, who chose it, and any scale caveat."""
    scale = {"OR": "log OR", "RR": "log RR", "HR": "log HR"}.get(measure, measure)
    if written:
        who = "given with --tau-prior/--effect-prior"
    elif isinstance(primary.effect, StudentTEffectPrior):
        who = f"Bartoš et al.'s empirical pair for {scale}, chosen with --priors bartos2023"
    else:
        who = f"the toolkit's default for {measure}"
    caveat = APPROXIMATION.get(measure, "") if primary.tau.key.startswith("turner") else ""
    return " ".join(
        [f"Primary priors ({who}): {primary.tau}; {primary.effect} (on the {scale} scale).", caveat]
    ).strip()


def list_priors() -> str:
    """The presets, one per line with distribution, median / 95% range and source, then the policy's defaults."""
    lines = ["Heterogeneity (tau) priors, --tau-prior KEY (or write one, e.g. 'halfnormal(0.5)'):"]
    lines += [f"  {key:32s} {prior}" for key, prior in TAU_PRESETS.items()]
    lines += ["Effect priors, --effect-prior KEY (log OR / log RR / log HR / SMD scale; or 'normal(MEAN, SD)'):"]
    lines += [f"  {key:32s} {prior}" for key, prior in EFFECT_PRESETS.items()]
    lines += ["Empirical Student-t effect priors, paired with the tau presets of the same key (reanalyse batch "
              "--priors bartos2023; not an --effect-prior):"]  # fmt: skip
    lines += [f"  {key:32s} {prior}" for key, prior in STUDENT_T_PRESETS.items()]
    lines += [
        "Defaults: OR, RR, HR: turner2015_general + weakly_informative (Turner's prior was derived for log OR; on "
        "log RR/HR it is an approximation); SMD: rhodes2015_smd_general + weakly_informative; MD, RD: both priors "
        "must be written on the outcome's scale. A written prior equal to a preset is that preset."
    ]
    return "\n".join(lines)
