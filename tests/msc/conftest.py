"""One run of the MSC job's evidence base for the whole session (fake sampler, quick mode), and its written outputs:
the runner's tests and the report's tests read the same run instead of running the job again."""

from functools import partial

import pytest

from models.bayes.sampling import fit_binomial_normal
from models.msc.datasets import load_dataset
from models.msc.outputs import write_outputs
from models.msc.runner import run_reanalysis
from models.msc.state import RunSettings


@pytest.fixture(scope="session")
def evidence_job(tmp_path_factory, make_fake_sampler):
    """(RunResult, the fake sampler, the output folder) of the evidence base's jobs (``--only evidence_base``, quick,
    fake sampler)."""
    sampler = make_fake_sampler()
    out = tmp_path_factory.mktemp("evidence")
    result = run_reanalysis(load_dataset(), RunSettings(only="evidence_base", quick=True), out, progress=False,
                            fit_fn=partial(fit_binomial_normal, sampler=sampler))  # fmt: skip
    return result, sampler, out


@pytest.fixture(scope="session")
def evidence_run(evidence_job):
    """(RunResult, the fake sampler) of :func:`evidence_job`."""
    result, sampler, _ = evidence_job
    return result, sampler


@pytest.fixture(scope="session")
def evidence_outputs(evidence_job):
    """The folder of :func:`evidence_job` with summary.csv, report.md and report.html written."""
    result, _, out = evidence_job
    write_outputs(result, out)
    return out
