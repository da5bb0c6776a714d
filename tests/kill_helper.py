"""A short stand-in for the main job, for the fast kill tests (run as a subprocess by tests/test_run_folder.py).

Runs ``scripts/reanalyse.py``'s real option checks, data loading, staging, output writing (reproduction, summary,
run_info.json) and commit, with the fits replaced by FAKE_FITS small files written FAKE_DELAY seconds apart and the
report by a one-line file. Prints ``ready`` when the fake fits begin, so the test can kill at a chosen moment.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scripts_loader import _load  # noqa: E402

import models.msc.outputs as outputs  # noqa: E402
import models.msc.runner as runner  # noqa: E402
from models.atomic import write_text  # noqa: E402
from models.cli import run_script  # noqa: E402

FITS = int(os.environ.get("FAKE_FITS", "8"))
DELAY = float(os.environ.get("FAKE_DELAY", "0.1"))


def fake_run(dataset, settings, out_dir, progress=True):
    result = runner.RunResult(settings, dataset)
    print("ready", flush=True)
    for i in range(FITS):
        write_text(Path(out_dir) / "fits" / f"fit_{i}.txt", f"seed={settings.seed}\n")
        time.sleep(DELAY)
    return result


def fake_report(result, reproduction, out):
    return (write_text(Path(out) / "report.md", f"seed={result.settings.seed}\n"),)


runner.run_reanalysis = fake_run
outputs.build_report = fake_report
reanalyse = _load("reanalyse")
sys.exit(run_script(lambda: reanalyse.main(sys.argv[1:])))
