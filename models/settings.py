"""The options every command shares, read once into one frozen :class:`Settings` before any work.

* ``--seed`` (the seed policy): one run seed per command, a whole number in [0, 2^32 - 1], default
  :data:`DEFAULT_SEED` in every command, checked once by the parser. Every random stream of a run takes its seed from
  :func:`derive_seed` (the run seed and a label that says what the stream is for: a fit's content key, a
  meta-analysis id, "exact draws"), so a number does not depend on which other analyses ran, in which order or on
  which worker. The MCMC fitting policy (``models.bayes.policy.fit_seed``) is the same derivation.
* ``--results``: the output folder (every command calls it that), checked by :func:`models.atomic.check_output_folder`.
* ``--tau-prior`` / ``--effect-prior``: :class:`models.prior_policy.PriorOptions`, the same in every command.
* ``--no-progress``: no progress bar on stderr.

Importing this module loads neither numpy nor pandas.
"""

from __future__ import annotations

import argparse
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from models.cli import seed_value
from models.prior_policy import PriorOptions

DEFAULT_SEED = 2026
"""The run seed of every command when ``--seed`` is not given."""
SEED_MODULUS = 2**31 - 1
"""Derived seeds lie in [0, 2^31 - 2] (what every generator and sampler of the project accepts)."""


def derive_seed(seed: int, label: str) -> int:
    """The seed of one random stream: from the run ``seed`` and a stable hash (CRC-32) of ``label``."""
    return (seed * 1_000_003 + zlib.crc32(label.encode())) % SEED_MODULUS


@dataclass(frozen=True)
class Settings:
    """What every command shares (module docstring); built by :func:`settings_from` from the parsed options."""

    seed: int = DEFAULT_SEED
    priors: PriorOptions = field(default_factory=PriorOptions)
    results: Path | None = None
    progress: bool = True

    def seed_for(self, label: str) -> int:
        """The seed of the random stream ``label`` (:func:`derive_seed`)."""
        return derive_seed(self.seed, label)


def add_shared_options(parser: argparse.ArgumentParser, *, results_help: str, priors: bool = True) -> None:
    """Add ``--results``, ``--seed``, ``--no-progress`` and (``priors``) ``--tau-prior`` / ``--effect-prior``."""
    parser.add_argument("--results", metavar="DIR", help=results_help)
    parser.add_argument("--seed", type=seed_value, default=DEFAULT_SEED,
                        help="run seed, a whole number in [0, 2^32-1] (default: %(default)s)")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    if priors:
        add_prior_options(parser)


def add_prior_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--tau-prior`` and ``--effect-prior`` (the grammar of :mod:`models.prior_policy`)."""
    parser.add_argument("--tau-prior", metavar="PRIOR",
                        help="heterogeneity prior: a preset (--list-priors) or e.g. 'halfnormal(0.5)' "
                             "(default: Turner 2015 general for OR/RR/HR, Rhodes 2015 for SMD)")  # fmt: skip
    parser.add_argument("--effect-prior", metavar="PRIOR",
                        help="effect prior: a preset or 'normal(MEAN, SD)' on the analysis scale (log OR/RR/HR, SMD, "
                             "MD/RD units; default Normal(0, 1) for OR/RR/HR/SMD)")  # fmt: skip


def settings_from(args: argparse.Namespace, results: Path | None) -> Settings:
    """The settings of parsed options; ``results`` is the checked output folder. Raises
    :class:`models.prior_policy.PriorError` for a prior option that names no prior."""
    priors = PriorOptions(getattr(args, "tau_prior", None), getattr(args, "effect_prior", None))
    return Settings(seed=args.seed, priors=priors, results=results, progress=not args.no_progress)
