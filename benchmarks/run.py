"""Speed and scale benchmark of the toolkit: prints a stable, line-oriented table (and optionally the same as JSON).

Sections: (1) wall time of the main job on cold and warm compile caches; (2) compile and refit times of the
binomial-normal model on the tang2024 mortality set; (3) the exact normal-normal posterior on that set; (4) ESS per
second, the toolkit against ``pm.sample`` defaults on the same model; (5) synthetic meta-analyses of 100 to 10,000
studies; (6) the exact binomial-normal engine; (7) the installed ``reanalyse`` command (``benchmarks/cli.py``). Every
measured section runs in a child process with empty compile caches. See benchmarks/README.md for what
each line means and how to compare runs (``--json`` to save one, ``--compare`` to print an earlier one beside it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pymc", "pytensor", "nutpie", "numpy", "numba", "arviz")
TARGETS = {
    "main_job_cold_s": 180.0,
    "main_job_warm_s": 60.0,
    "refit_median_s": 0.3,
    "exact_ms": 5.0,
    "exact_bn_k15_ms": 20.0,
    "exact_bn_k1000_ms": 1000.0,
    "exact_bn_prior_swap_ms": 5.0,
    "fit_cli_k10_cold_s": 15.0,
    "fit_cli_k10_warm_s": 3.0,
    "cli_error_s": 1.0,
    "pubbias_bma_k15_ms": 1000.0,
}
"""Upper targets from the "Speed and scale" issue."""
DEFAULT_SEED = 20240
NAME_WIDTH = 34


@dataclass
class Row:
    """One line of the table: a named measurement, its unit, the target it is held to (if any) and a note."""

    name: str
    value: float | int | str | None
    unit: str = ""
    note: str = ""
    target: float | None = None

    @property
    def status(self) -> str:
        if self.target is None or not isinstance(self.value, int | float):
            return ""
        return "ok" if self.value <= self.target else "MISS"


def fmt(value: float | int | str | None) -> str:
    """A number with about four significant digits and no exponent (stable width for diffing)."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if value != value:
        return "nan"
    a = abs(value)
    if a >= 1000:
        return f"{value:.0f}"
    if a >= 100:
        return f"{value:.1f}"
    if a >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}" if a >= 0.01 or a == 0 else f"{value:.2e}"


def render(row: Row, previous: dict[str, Any] | None = None) -> str:
    """``name  value  unit  [<= target status]  [was X (ratio)]  [# note]`` on one line."""
    target = f"<= {fmt(row.target)} {row.status}" if row.target is not None else ""
    parts = [f"{row.name:<{NAME_WIDTH}} {fmt(row.value):>10} {row.unit:<4} {target:<14}"]
    if previous is not None and row.name in previous:
        old = previous[row.name]
        ratio = ""
        if isinstance(old, int | float) and isinstance(row.value, int | float) and old:
            ratio = f" (x{row.value / old:.2f})"
        parts.append(f"was {fmt(old)}{ratio}")
    if row.note:
        parts.append(f"# {row.note}")
    return "  ".join(parts).rstrip()


class Table:
    """Collects rows, prints each as soon as it is measured, and dumps everything to JSON at the end."""

    def __init__(self, previous: dict[str, Any] | None) -> None:
        self.header: dict[str, Any] = {}
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}
        self.previous = previous

    def head(self, key: str, value: Any) -> None:
        self.header[key] = value
        print(f"# {key}: {value}", flush=True)

    def comment(self, text: str) -> None:
        print(f"# {text}", flush=True)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(render(row, self.previous), flush=True)

    def as_json(self) -> dict[str, Any]:
        rows = [{**asdict(r), "status": r.status} for r in self.rows]
        return {"header": self.header, "metrics": rows, "raw": self.raw}


def _versions() -> str:
    out = []
    for name in PACKAGES:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} not installed")
    return ", ".join(out)


def _git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    if rev.returncode != 0:
        return "unknown"
    return rev.stdout.strip() + (" (uncommitted changes)" if dirty.stdout.strip() else "")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def header(table: Table, args: argparse.Namespace) -> None:
    table.head("benchmark", "msc-reanalysis speed and scale")
    table.head("date", dt.datetime.now().astimezone().isoformat(timespec="seconds"))
    table.head("cpu_count", os.cpu_count())
    table.head("loadavg_start", f"{_load()} (1, 5, 15 min)")
    table.head("python", platform.python_version())
    table.head("packages", _versions())
    table.head("git", _git_revision())
    table.head("seed", args.seed)
    table.head("caches", "every section runs in a child process with empty numba/PyTensor compile caches")


# -- sections -----------------------------------------------------------------------------------------------------


def section_main(table: Table, work: Path, quick: bool) -> None:
    from benchmarks.mainjob import time_main_job

    table.comment(f"[1] main job: scripts/reanalyse.py --no-progress{' --quick' if quick else ''}, cold then warm")
    res = time_main_job(work, quick)
    table.raw["main_job"] = res
    for phase in ("cold", "warm"):
        run = res[phase]
        note = ("--quick; " if quick else "") + f"exit {run['exit']}"
        if "fits" in run:
            note += f"; {run['fits']} MCMC fits, {run['failed_fits']} failed their gates"
        value = run["wall_s"]
        if "error" in run:
            value, note = None, note + "; ERROR " + " | ".join(run["error"].splitlines()[-3:])
        name = f"main_job_{phase}_s"
        table.add(Row(name, value, "s", note, TARGETS[name]))


def section_micro(table: Table, work: Path, seed: int) -> bool:
    from benchmarks.common import cache_env, run_child

    table.comment("[2-4] tang2024/mortality, binomial-normal (log OR), primary priors")
    res, wall, err = run_child("micro", ["--seed", str(seed)], cache_env(work / "micro-caches"))
    if res is None:
        table.add(Row("micro_error", "failed", note=err.replace("\n", " | ")))
        return False
    table.raw["micro"] = res
    r, e, ess = res["refit"], res["exact"], res["ess"]
    table.add(Row("refit_set_k", r["k"], "", "studies with known counts (padded to the next slot bucket)"))
    table.add(Row("compile_s", r["compile_s"], "s", "nutpie.compile_pymc_model, empty caches"))
    table.add(Row("first_fit_s", r["first_fit_s"], "s", "first fit_binomial_normal call: compile + sample + output"))
    table.add(
        Row(
            "refit_median_s",
            r["refit_median_s"],
            "s",
            f"{r['refits']} refits (alternately new tau/effect prior, new data), max {fmt(r['refit_max_s'])} s, "
            "toolkit defaults",
            TARGETS["refit_median_s"],
        )
    )
    table.add(Row("refit_sample_median_s", r["refit_sample_median_s"], "s", "of which nutpie.sample"))
    table.add(Row("refit_recompiles", r["compiles_during_refits"], "", "compiles during the refits (expect 0)"))
    table.add(Row("compile_warm_s", r["compile_warm_s"], "s", "same structure after clear_cache(), warm disk caches"))
    table.add(
        Row("exact_ms", e["exact_ms"], "ms", f"median of {e['exact_calls']}, p90 {fmt(e['exact_p90_ms'])} ms", 5.0)
    )
    ours, default = ess["ours"], ess["default"]

    def ess_note(run: dict[str, Any]) -> str:
        extra = f", compile+init {fmt(run['setup_s'])} s" if "setup_s" in run else ""
        return (
            f"{run['sampler']}: {run['chains']} chains x ({run['tune']} tune + {run['draws']} draws); "
            f"bulk ESS mu {fmt(run['ess_bulk_mu'])}, tau {fmt(run['ess_bulk_tau'])}; "
            f"sampling {fmt(run['sampling_s'])} s{extra}; {run['divergences']} divergences"
        )

    table.add(Row("ess_per_s_ours", ours["ess_per_s"], "1/s", ess_note(ours)))
    table.add(Row("ess_per_s_pymc_default", default["ess_per_s"], "1/s", ess_note(default)))
    table.comment(f"pm.sample() picked: {default['log'] or default['sampler']}")
    table.add(Row("ess_ratio_ours_vs_default", ours["ess_per_s"] / default["ess_per_s"], "x"))
    if "pymc_nuts" in ess:
        nuts = ess["pymc_nuts"]
        table.add(Row("ess_per_s_pymc_nuts", nuts["ess_per_s"], "1/s", ess_note(nuts)))
        table.add(Row("ess_ratio_ours_vs_pymc_nuts", ours["ess_per_s"] / nuts["ess_per_s"], "x"))
    return True


def _child_lines(table: Table, work: Path, module: str, prefix: str, repeat: int) -> None:
    """Run ``python -m benchmarks.<module> --repeat N`` as a child with empty compile caches and pass its lines that
    start with ``prefix`` through (an error line if it fails)."""
    from benchmarks.common import ROOT, cache_env

    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", "--repeat", str(repeat)], cwd=ROOT,
                          env=dict(cache_env(work / f"{module}-caches")), capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        table.add(Row(f"{prefix}error", "failed", note=proc.stderr.strip().replace("\n", " | ")[-300:]))
        return
    for line in proc.stdout.splitlines():
        if not line.startswith(prefix):
            continue
        head, _, note = line.partition("  # ")
        parts = head.split()
        table.add(Row(parts[0], float(parts[1]), parts[2], note, TARGETS.get(parts[0])))


def section_exact_bn(table: Table, work: Path, seed: int) -> None:
    """Section 6: the lines of ``benchmarks/exact_bn.py`` (run as a child with empty compile caches), passed through."""
    table.comment("[6] exact binomial-normal posterior by quadrature (models.bayes.exact_binomial), HalfNormal(0.5)")
    _child_lines(table, work, "exact_bn", "exact_bn_", 7)


def section_cli(table: Table) -> None:
    """Section 7: the lines of ``benchmarks/cli.py`` (the installed command; it makes its own empty caches)."""
    from benchmarks.common import ROOT

    table.comment("[7] the installed reanalyse command on a 10-study 2x2 CSV: first answer of fit, a refusal")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.cli"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        table.add(Row("cli_error", "failed", note=(proc.stderr or proc.stdout).strip().replace("\n", " | ")[-300:]))
        return
    for line in proc.stdout.splitlines():
        if line.startswith("#"):
            continue
        head, _, note = line.partition("  # ")
        parts = head.split()
        table.add(Row(parts[0], float(parts[1]), parts[2], note, TARGETS.get(parts[0])))


def section_pubbias(table: Table, work: Path) -> None:
    """Section 8: the line of ``benchmarks/pubbias.py`` (run as a child with empty compile caches), passed through."""
    table.comment("[8] robust Bayesian model averaging on 2x2 data (models.bayes.publication_bias), 36 models")
    _child_lines(table, work, "pubbias", "pubbias_", 5)


def section_scale(table: Table, work: Path, sizes: list[int], seed: int) -> None:
    from benchmarks.scale import loglog_slope, run_scale

    table.comment("[5] synthetic binomial-normal meta-analyses (mu -0.3, tau 0.3, baseline risk ~0.3, arms 20-200)")
    results = []
    for k in sizes:
        (res,) = run_scale([k], seed, work)
        results.append(res)
        p = f"scale_k{k}_"
        if "error" in res:
            table.add(Row(p + "error", "failed", note=res["error"].replace("\n", " | ")))
            continue
        s = res["settings"]
        used = f"{s['chains']} chains x ({s['tune']} tune + {s['draws']} draws), {res['n_slots']} slots"
        rows = (
            ("compile_s", "s", "empty caches"),
            ("sample_s", "s", f"{used}, mean {fmt(res['mean_leapfrog'])} leapfrog/draw"),
            ("fit_s", "s", f"whole fit call; data prep, assembly, diagnostics {fmt(res['other_s'])} s"),
            ("peak_rss_mb", "MB", f"ru_maxrss of the child; after imports {fmt(res['rss_after_import_mb'])} MB"),
            ("rhat_max", "", f"mu, tau; all reported quantities {fmt(res['rhat_max_all'])}"),
            ("ess_bulk_min", "", f"mu, tau; all reported quantities {fmt(res['ess_bulk_min_all'])}"),
            ("ess_tail_min", "", "mu, tau"),
            ("divergences", "", ""),
        )
        for name, unit, note in rows:
            table.add(Row(p + name, res[name], unit, note))
    table.raw["scale"] = results
    ok = [r for r in results if "error" not in r]
    if len(ok) < 2:
        return
    ks = [r["k"] for r in ok]
    iters = [r["settings"]["chains"] * (r["settings"]["tune"] + r["settings"]["draws"]) for r in ok]
    per_iter = [r["sample_s"] / n for r, n in zip(ok, iters, strict=True)]
    per_grad = [t / r["mean_leapfrog"] for t, r in zip(per_iter, ok, strict=True)]
    slopes = {
        "scale_slope_sample_per_iter": loglog_slope(ks, per_iter),
        "scale_slope_sample_per_grad": loglog_slope(ks, per_grad),
        "scale_slope_compile": loglog_slope(ks, [r["compile_s"] for r in ok]),
        "scale_slope_fit": loglog_slope(ks, [r["fit_s"] for r in ok]),
    }
    notes = {
        "scale_slope_sample_per_iter": "sampling seconds per NUTS iteration (all chains) ~ k^slope",
        "scale_slope_sample_per_grad": "the same per leapfrog step (tree size from post-tuning draws)",
        "scale_slope_compile": "compile time ~ k^slope",
        "scale_slope_fit": "whole fit ~ k^slope (settings differ between sizes: see sample_s notes)",
    }
    for name, value in slopes.items():
        table.add(Row(name, value, "", notes[name]))
    table.comment(
        f"time grows like k^{slopes['scale_slope_sample_per_iter']:.2f} per NUTS iteration "
        f"(k^{slopes['scale_slope_sample_per_grad']:.2f} per gradient evaluation) over k = "
        + ", ".join(str(k) for k in ks)
    )


# -- command line -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="PATH", help="also write the table (and raw measurements) as JSON")
    parser.add_argument("--compare", metavar="PATH", help="JSON of an earlier run: print its values beside these")
    parser.add_argument("--skip-main", action="store_true", help="skip the main-job timing (it takes minutes)")
    parser.add_argument("--quick-main", action="store_true", help="pass --quick to the main job")
    parser.add_argument("--skip-micro", action="store_true", help="skip sections 2-4")
    parser.add_argument("--skip-exact-bn", action="store_true", help="skip section 6 (exact binomial-normal)")
    parser.add_argument("--skip-cli", action="store_true", help="skip section 7 (the installed command)")
    parser.add_argument("--skip-pubbias", action="store_true", help="skip section 8 (robust Bayesian model averaging)")
    parser.add_argument(
        "--scale-sizes",
        default=None,
        metavar="K,K,...",
        help="study counts for the scale section (default 100,1000,10000; 100,1000 with --fast; empty to skip)",
    )
    parser.add_argument("--fast", action="store_true", help="quick check: skip the main job and the 10,000 case")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of every fit and of the simulation")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary caches and results")
    args = parser.parse_args(argv)
    if args.scale_sizes is None:
        args.scale_sizes = "100,1000" if args.fast else "100,1000,10000"
    try:
        args.sizes = [int(s) for s in args.scale_sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--scale-sizes must be comma-separated integers, got {args.scale_sizes!r}")
    if any(k < 1 for k in args.sizes):
        parser.error(f"--scale-sizes must be positive, got {args.scale_sizes!r}")
    if args.fast:
        args.skip_main = True
    return args


def _previous(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text())
        return {m["name"]: m["value"] for m in data["metrics"]}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SystemExit(f"error: --compare {path}: not a benchmark JSON file ({err})") from None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    table = Table(_previous(args.compare))
    header(table, args)
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="msc-bench-"))
    try:
        if args.skip_main:
            table.comment("[1] main job skipped")
        else:
            section_main(table, work / "main", args.quick_main)
        if args.skip_micro:
            table.comment("[2-4] skipped")
        else:
            section_micro(table, work, args.seed)
        if args.sizes:
            section_scale(table, work, args.sizes, args.seed)
        else:
            table.comment("[5] scale skipped")
        if args.skip_exact_bn:
            table.comment("[6] exact binomial-normal skipped")
        else:
            section_exact_bn(table, work, args.seed)
        if args.skip_cli:
            table.comment("[7] the installed command skipped")
        else:
            section_cli(table)
        if args.skip_pubbias:
            table.comment("[8] robust Bayesian model averaging skipped")
        else:
            section_pubbias(table, work)
    finally:
        if args.keep_temp:
            table.comment(f"temporary files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    table.head("loadavg_end", f"{_load()} (1, 5, 15 min)")
    table.head("total_s", round(time.perf_counter() - t0, 1))
    if args.json:
        Path(args.json).write_text(json.dumps(table.as_json(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
