"""The report's text against the run's own outputs, read back from the files (one shared run of the evidence base with
the fake sampler: tests/msc/conftest.py).

* Every number of the bottom line is the summary.csv row it quotes (or, for patients, the arm sizes of
  data/outcomes_binary.csv), in the order the text gives them.
* The words around the numbers: GRADE's plain-language wording for the certainty of the first summary row,
  "includes OR = 1", the Bayes factor that Table 6's caption describes, the published-totals spread stated.
* Reader text (report.html and report.md, outside code and file names) holds no identifier: no snake_case word, no
  study or document id of data/, no Python True/False.
* The study characteristics, risk-of-bias and exclusion tables come from data/; mortality by time point and the
  before/after rows are the summary.csv rows.
"""

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2] / "data"


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


STUDY_IDS = {r["study_id"] for r in read_csv("studies.csv")}
DOCUMENT_IDS = {r["document"] for r in read_csv("published.csv")}
FILE_NAME = re.compile(r"\S+\.(?:png|csv|json|md|nc|html)\b")
SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
ID_SHAPED = re.compile(r"\b[a-z]+\d{4}\b")
CODE_WORDS = re.compile(r"\b(?:True|False|rct|nrs)\b")
ALLOWED: set[str] = set()
"""Identifier-shaped tokens allowed in reader text (none today)."""


def identifiers(text: str) -> list[str]:
    """Identifier-shaped tokens of reader text: snake_case words, study and document ids of data/, True/False and the
    analyses' code names (file names removed first)."""
    text = FILE_NAME.sub(" ", text)
    found = SNAKE.findall(text) + [t for t in ID_SHAPED.findall(text) if t in STUDY_IDS | DOCUMENT_IDS]
    return [t for t in found + CODE_WORDS.findall(text) if t not in ALLOWED]


class ReaderText(HTMLParser):
    """The text a reader sees in report.html: element text and image alt text, without style, script, code and
    pre blocks."""

    SKIP = ("style", "script", "code", "pre")

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.SKIP
        if tag == "img":
            self.parts += [v for k, v in attrs if k == "alt" and v]

    def handle_endtag(self, tag):
        self.depth -= tag in self.SKIP

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


@pytest.fixture(scope="module")
def out(evidence_outputs):
    return evidence_outputs


@pytest.fixture(scope="module")
def summary(out):
    frame = pd.read_csv(out / "summary.csv")
    return frame[frame["primary_priors"]]


@pytest.fixture(scope="module")
def markdown(out):
    return (out / "report.md").read_text()


@pytest.fixture(scope="module")
def bottom(markdown):
    return markdown.split("## Bottom line", 1)[1].split("**Table 1.**", 1)[0].strip()


def row(summary: pd.DataFrame, analysis: str, model: str = "binomial_normal_exact") -> pd.Series:
    hit = summary[(summary["analysis"] == analysis) & (summary["model"] == model)]
    assert len(hit) == 1, (analysis, model)
    return hit.iloc[0]


def p_text(p: float) -> str:
    """The report's stated rule for probabilities (Methods): '> 0.999' above 0.999, else 3 decimals."""
    return "> 0.999" if p > 0.999 else "< 0.001" if p < 0.001 else f"{p:.3f}"


def patients(studies: str) -> int:
    """Patients in the listed studies' primary mortality rows of data/outcomes_binary.csv."""
    wanted = set(studies.split(";"))
    rows = read_csv("outcomes_binary.csv")
    return sum(int(r["total"]) for r in rows
               if r["study_id"] in wanted and r["outcome"] == "mortality" and r["variant"] == "primary")  # fmt: skip


def test_bottom_line_is_at_most_150_words(bottom):
    assert 0 < len(bottom.split()) <= 150


def test_every_number_of_the_bottom_line_is_its_summary_row(bottom, summary):
    prim = row(summary, "evidence_base/rct")
    absolute = row(summary, "evidence_base/rct/absolute_at_rct_crude")
    pet = row(summary, "evidence_base/rct/small_study_pet", "binomial_normal_pet")
    totals = row(summary, "evidence_base/published_totals/proportional", "binomial_normal_exact_nrs_bias")
    spreads = summary[summary["analysis"].str.startswith("evidence_base/published_totals/")
                      & summary["model"].isin(["binomial_normal_exact_nrs_bias", "binomial_normal_exact"])]  # fmt: skip
    before = row(summary, "evidence_base/before_update/rct")
    imputed = set(totals["studies"].split(";")) - set(row(summary, "evidence_base/all")["studies"].split(";"))
    diff = [absolute["difference_per_1000"], absolute["difference_per_1000_low"],
            absolute["difference_per_1000_high"]]  # fmt: skip
    expected = [
        f"{prim['k']}", f"{patients(prim['studies'])}",
        f"{prim['effect_median']:.2f}", f"{prim['effect_low']:.2f}", f"{prim['effect_high']:.2f}",
        p_text(prim["p_benefit"]), *(f"{abs(d):.0f}" for d in diff), f"{1000 * absolute['control_risk']:.0f}",
        f"{prim['bf10_effect']:.2g}", p_text(prim["p_benefit_model_averaged"]),
        f"{prim['pred_low']:.2f}", f"{prim['pred_high']:.2f}", p_text(prim["p_new_benefit"]),
        p_text(pet["p_benefit"]), f"{len(imputed)}", p_text(totals["p_benefit"]),
        p_text(spreads["p_benefit"].min()), p_text(spreads["p_benefit"].max()),
    ]  # fmt: skip
    words = re.sub(r"95% CrI|per 1,000|SCRT 2026|below 1\b", " ", bottom)
    assert re.findall(r"> 0\.999|< 0\.001|\d[\d,]*(?:\.\d+)?", words) == [e.replace(",", "") for e in expected]
    signs = re.findall(r"\d+ (fewer|more)", bottom)
    assert signs == ["fewer" if d < 0 else "more" for d in diff]
    unchanged = (f"{before['effect_median']:.2f}", p_text(before["p_benefit"])) == (
        f"{prim['effect_median']:.2f}", p_text(prim["p_benefit"]))  # fmt: skip
    assert ("left the randomised result unchanged" in bottom) == unchanged


def test_bottom_line_states_the_spread_and_reads_the_bayes_factor_in_words(bottom, summary):
    assert "in proportion to arm size" in bottom and "across other spreads" in bottom
    bf = row(summary, "evidence_base/rct")["bf10_effect"]
    if 1 / 3 < bf < 3:  # Jeffreys' band of no real evidence either way
        assert "the data are about as likely with no effect as with an effect" in bottom
    assert "largest of which" not in bottom  # no hand-written claim about a trial


def test_plain_language_statement_follows_the_certainty_of_the_primary_row(bottom, markdown):
    sof = markdown.split("**Table 1.**", 1)[1]
    first_row = next(line for line in sof.splitlines() if line.startswith("| Randomised trials (primary)"))
    level = first_row.rstrip(" |").rsplit("|", 1)[1].strip().split(" (")[0]
    statement = {
        "high": "MSCs reduce mortality",
        "moderate": "MSCs probably reduce mortality",
        "low": "MSCs may reduce mortality",
        "very low": "The evidence is very uncertain about the effect of MSCs on mortality",
    }[level]  # Santesso et al. 2020, Table 2, for an important reduction (the point estimate here is -84 per 1,000)
    assert bottom.startswith(statement) and f"GRADE: {level} certainty" in bottom


def test_footnotes_say_includes_or_1_and_cite_the_rules(markdown):
    assert "includes OR = 1" in markdown and "includes no effect" not in markdown
    methods = markdown.split("## Methods", 1)[1].split("## Appendix", 1)[0]
    for source in ("Santesso et al. 2020, J Clin Epidemiol 119:126", "J Clin Epidemiol 64:1283",
                   "J Clin Epidemiol 64:1294", "J Clin Epidemiol 64:1277", "J Clin Epidemiol 64:407",
                   "J Clin Epidemiol 111:105", "optimal information size"):  # fmt: skip
        assert source in methods, source


def test_table_6_prints_the_bayes_factor_its_caption_describes(markdown, summary):
    section = markdown.split("### Bayes factors and model averaging", 1)[1].split("\n### ", 1)[0]
    assert "inclusion Bayes factor for an effect" in section and "conditional BF10" in section
    header = next(line for line in section.splitlines() if line.startswith("| Analysis"))
    assert "Inclusion BF, effect" in header.split("|")[2]
    first = next(line for line in section.splitlines() if line.startswith("| Randomised trials (primary"))
    bf = row(summary, "evidence_base/rct")["bf10_effect"]  # summary.csv: the inclusion BF (docs/results-columns.md)
    assert first.split("|")[2].strip().startswith(f"{bf:.3g} (")


def _reader_html(out: Path) -> str:
    parser = ReaderText()
    parser.feed((out / "report.html").read_text())
    return " ".join(parser.parts)


def test_no_identifiers_in_reader_text(out, markdown):
    html_found = identifiers(_reader_html(out))
    md_text = re.sub(r"`[^`\n]+`|\]\([^)]*\)", " ", markdown)  # code spans and link targets
    assert html_found == [] and identifiers(md_text) == []


def test_the_scanner_finds_what_it_looks_for():
    text = "p_benefit for shu2020 in yao2022 (True); see summary.csv and figures/shu2020__forest.png; Shu 2020"
    assert identifiers(text) == ["p_benefit", "shu2020", "yao2022", "True"]


def test_study_tables_come_from_the_data(markdown):
    studies = read_csv("studies.csv")
    table = markdown.split("Study characteristics: design and patients", 1)[1].split("\n\n", 2)[1]
    assert len([line for line in table.splitlines() if line.startswith("| ") and "---" not in line]) == len(
        studies) + 1  # fmt: skip
    assert "| Shu 2020 | RCT (design contested) | open | standard care |" in table  # data/studies.csv row shu2020
    assert "not reported" in table  # bukreieva2023's time point is not stated
    rob = markdown.split("Risk of bias of the randomised trials (RoB 2)", 1)[1].split("\n\n", 2)[1]
    assert "| Monsel 2022 | not assessed | not assessed | not assessed | low | not assessed | low |" in rob
    excluded = markdown.split("Studies excluded, with the rule and the reason", 1)[1].split("\n\n", 2)[1]
    assert "| Lightner 2023 | cell product |" in excluded and "| Matthay 2025 | COVID-19 population |" in excluded


def test_time_point_rows_are_their_summary_rows_and_say_what_the_data_can_tell(markdown, summary):
    section = markdown.split("### Mortality by time point", 1)[1].split("\n### ", 1)[0]
    prim, day28, longest = (row(summary, f"evidence_base/{a}") for a in ("rct", "rct_day28", "rct_longest"))
    for r in (day28, longest):
        assert f"{r['effect_median']:.2f} [{r['effect_low']:.2f}, {r['effect_high']:.2f}]" in section
    if prim["effect_median"] == longest["effect_median"] == day28["effect_median"]:
        assert "cannot tell whether the benefit holds with longer follow-up" in section
    assert "| Bowdish 2023 | day 30 | day 30 | day 30 | day 7; day 14 |" in section  # data: days 7, 14, 30
    assert "Gorman 2023 reports deaths at day 90, day 365 and day 730, without counts." in section
    qin = row(summary, "qin2024/mortality_d90", "summary_level")
    assert f"at day 90 (P(RR < 1) {p_text(qin['p_benefit'])} taken at face value)" in section
    assert "moves towards no effect as follow-up lengthens" in section  # Qin 2024: 0.76, 0.87, 0.91


def test_before_and_after_rows_are_their_summary_rows(markdown, summary):
    section = markdown.split("## What the evidence published since adds", 1)[1].split("\n## ", 1)[0]
    for label, before, now in (
        ("Randomised trials (primary)", "rct", "rct"),
        ("All studies with counts, NRS through a bias model", "nrs_bias", "nrs_bias"),
        ("All studies with counts pooled as if randomised", "all", "all"),
        ("All SCRT 2026 candidates", "published_totals", "published_totals/proportional"),
    ):
        model = "binomial_normal_exact_nrs_bias" if before == "published_totals" else "binomial_normal_exact"
        b, n = row(summary, f"evidence_base/before_update/{before}", model), row(summary, f"evidence_base/{now}", model)
        line = next(x for x in section.splitlines() if x.startswith(f"| {label}"))
        cells = [c.strip() for c in line.split("|")[2:-1]]
        assert cells == [str(b["k"]), f"{b['effect_median']:.2f} [{b['effect_low']:.2f}, {b['effect_high']:.2f}]",
                         p_text(b["p_benefit"]), str(n["k"]),
                         f"{n['effect_median']:.2f} [{n['effect_low']:.2f}, {n['effect_high']:.2f}]",
                         p_text(n["p_benefit"])]  # fmt: skip
    gregoire = "| Grégoire 2022 (non-randomised study): death counts | day 28: 0/8 vs 5/24; day 60: 0/8 vs 7/24 |"
    assert gregoire in section  # data/outcomes_binary.csv, gregoire2022 primary and gregoire_day60


def test_tables_that_pool_non_randomised_studies_say_so(markdown):
    captions = re.findall(r"\*\*Table \d+\.\*\* ([^\n]+)", markdown)
    pooled = [c for c in captions if c.startswith(("Meta-regression", "Small-study tests, all", "Leave one",
                                                   "With and without the small-study adjustment, all"))
              and "randomised trials:" not in c]  # fmt: skip
    assert pooled and all("non-randomised" in c for c in pooled)
    randomised = [c for c in captions if c.startswith("Meta-regression") and "randomised trials:" in c]
    assert randomised and not any("non-randomised" in c for c in randomised)  # the trials' own, shown first
    appendix = markdown.split("### Details by study set", 1)[1]
    for heading, body in re.findall(r"#### ([^\n]+)\n\n(.+?)(?=\n#### |\n### )", appendix, flags=re.S):
        if "Of them non-randomised" in body:
            assert re.search(r"non-randomised stud(y|ies) pooled as if randomised", body), heading
