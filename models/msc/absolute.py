"""The control risks at which the MSC job states absolute effects, and why 20 fewer deaths per 1,000 is its
clinically important difference (the computation is generic: :mod:`models.bayes.absolute`).

:data:`models.bayes.absolute.IMPORTANT_ARR` (2 percentage points) is used as is: smaller than the 3-12 points
dexamethasone achieved in RECOVERY, larger than a difference no panel would act on for an expensive, experimental cell
therapy. 1 and 5 points are reported too.
"""

from __future__ import annotations

from models.bayes.absolute import ControlRisk

RECOVERY_OXYGEN = ControlRisk(
    "recovery_oxygen",
    0.262,
    "hospitalised, on oxygen, not ventilated",
    "RECOVERY usual-care arm, 28-day mortality, oxygen without invasive ventilation (N Engl J Med 2021;384:693)",
)
RECOVERY_VENTILATED = ControlRisk(
    "recovery_ventilated",
    0.414,
    "invasive mechanical ventilation",
    "RECOVERY usual-care arm, 28-day mortality, invasive mechanical ventilation (N Engl J Med 2021;384:693)",
)
