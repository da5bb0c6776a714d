"""An outcome label (e.g. "All-cause mortality at 30 days") to one of Turner et al. 2015's outcome types, by stated
keyword rules: the class the corpus report compares with Turner's predictive distributions of tau.

The rules are a heuristic for labels that name their outcome; labels that do not (Cochrane analyses named after a
comparison, "Sensitivity analysis", "Primary outcome") stay unclassified. They are tried in the order of
:data:`RULES`, the first match wins, case-insensitively; each is a regular expression over the whole label.
Withdrawals come first (a "withdrawal due to adverse events" is a withdrawal), then mortality (all-cause unless a
cause or a perinatal population is named), obstetric outcomes, major morbidity, adverse events and the rest. Turner's
types "internal / structure-related outcomes" and "general physical health indicators" have no rule: their labels
cannot be told from a keyword. The classes are keys of :data:`models.cochrane_references.OUTCOME_TYPES`.
"""

from __future__ import annotations

import re

_DEATH = r"\b(mortality|deaths?|died|dead|fatal(ity|ities)?)\b"
_CAUSE = (
    r"cardio|cardiac|coronary|cancer|tumou?r|stroke|vascular|suicid|sudden|respiratory|disease|related|due to|from|"
    r"\bhiv\b|\baids\b|malaria|tubercul|infect|sepsis|neonatal|perinatal|infant|fetal|foetal|maternal|stillbirth|"
    r"specific|injur|overdose|liver|renal|kidney|hepat|bleed|haemorrhag|hemorrhag|non-?fatal|fatal stroke"
)
RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern, re.IGNORECASE))
    for key, pattern in (
        ("withdrawals", r"withdr[ae]w|drop-?outs?|discontinu|loss to follow|lost to follow|leaving the stud|"
                        r"acceptability|adherence|non-?compliance|attrition"),
        ("all_cause_mortality", rf"^(?!.*({_CAUSE})).*{_DEATH}|all[- ]cause|any[- ]cause"),
        ("obstetric", r"caesarean|cesarean|preterm|pre-term|birth|deliver|miscarriage|stillbirth|pregnan|neonatal|"
                      r"perinatal|apgar|\blabou?r\b|postpartum|\bpph\b|gestation|fetal|foetal|breastfe|uterotonic|"
                      r"episiotomy|perine"),
        ("cause_specific_mortality_morbidity", rf"{_DEATH}|myocardial infarction|\bstroke|major (adverse )?cardi|"
                                               r"\bmace\b|heart failure|fracture|amputation|thrombo|embolism|"
                                               r"composite|cardiovascular event"),
        ("adverse_events", r"adverse|side[- ]effect|toxicit|complication|harm|nausea|vomit|diarrh|headache|dizz|"
                           r"\brash|constipation|somnolence|drowsi|sleepiness|bleed|haemorrhag|hemorrhag|hypotension|"
                           r"hyperkal|neutropeni|fever|shiver|prurit|flushing|asthenia|overdose"),
        ("infection_onset", r"infect|sepsis|septic|pneumonia|malaria|tubercul|\bhiv\b|\bssi\b|incidence|onset|"
                            r"new diagnos|development of|otitis|\baom\b|cerebral palsy|\bcmv\b|asthma"),
        ("resource_use", r"hospitali[sz]|admission|readmission|length of stay|re-?operation|reintervention|"
                         r"transfusion|need for|use of|required|requiring|service use|intensive care|\bicu\b|"
                         r"ventilation|intubation|additional|secondary intervention|rescue|inotropic|cancellation"),
        ("surgical_device", r"success|failure|patency|occlusion|graft|closure|leak|dehiscence|revision|stone-free|"
                            r"conversion|\bmesh\b|removal|recanali"),
        ("pain", r"\bpain|analges|dyspareunia"),
        ("mental_health", r"depress|anxiety|psychiatr|psychos|mental|schizo|mania|delirium"),
        ("quality_of_life", r"quality of life|function|disabilit|independen|dependen|\bmrs\b|rankin|daily living"),
        ("signs_symptoms", r"relapse|recurren|remission|\bcure|clearance|resolution|persist|improv|response|"
                           r"responder|heal|symptom|free of|abstinen|cessation|\bquit|seizure|recovery|sinus rhythm|"
                           r"dry nights|reversal"),
        ("biological_markers", r"hba1c|viral load|\bcd4|serum|level|haemoglobin|hemoglobin|an(a)?emi|seroconver|"
                               r"bilirubin|enzyme|glucose|hyperuric|hypogly|hypergly|acidosis|blood pressure|"
                               r"cholesterol|\baki\b|creatinine"),
        ("subjective", r"satisfaction|preference|global (rating|impression)|perceived|awareness"),
    )
)  # fmt: skip
"""(outcome type, rule), in the order they are tried."""


def outcome_type(label: str) -> str | None:
    """The outcome type of ``label`` by :data:`RULES` (a key of :data:`~models.cochrane_references.OUTCOME_TYPES`),
    or None when no rule matches."""
    text = " ".join(str(label).split())
    for key, rule in RULES:
        if rule.search(text):
            return key
    return None
