"""The README and docs/ hold together: a README a newcomer reads in minutes, pages that open with
who they are for, links that lead somewhere, reference tables that match the code, and figures
without history (that lives in git log)."""
import re

import pytest

from ananacare.config import DEFAULTS
from ananacare.quality.checks import CHECK_KINDS, NOT_REQUIRED, PROFILES
from server import ROOT

README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCS = [README, *PAGES]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _text_outside_code(path):
    """The Markdown without fenced blocks and inline code (links inside code are not links)."""
    text = re.sub(r"^\s*```.*?^\s*```", "", path.read_text(), flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def github_anchors(path):
    """The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to
    hyphens, -1, -2 ... for repeats."""
    anchors, seen = set(), {}
    text = re.sub(r"^\s*```.*?^\s*```", "", path.read_text(), flags=re.S | re.M)
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_the_readme_is_short():
    assert len(README.read_text().splitlines()) <= 200


def test_the_readme_links_every_page_of_docs():
    text = README.read_text()
    for page in PAGES:
        assert f"(docs/{page.name})" in text, page.name


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_each_page_opens_with_who_it_is_for(page):
    title, first = [part for part in page.read_text().split("\n\n") if part.strip()][:2]
    assert title.startswith("# ") and first.startswith("For "), first[:80]


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_relative_link_resolves(doc):
    for target in LINK.findall(_text_outside_code(doc)):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not ours to check here
            continue
        path, _, anchor = target.partition("#")
        destination = (doc.parent / path).resolve() if path else doc
        assert destination.exists(), f"{doc.name}: {target} -> {destination} does not exist"
        if anchor:
            assert destination.suffix == ".md", f"{doc.name}: {target}"
            assert anchor in github_anchors(destination), f"{doc.name}: no heading #{anchor} in {destination.name}"


def test_the_anchor_rule_matches_githubs():
    page = ROOT / "docs" / "quality.md"
    assert {"ofiqs-measures", "changing-a-threshold", "the-checks"} <= github_anchors(page)


def test_operations_lists_every_setting_and_only_settings():
    text = (ROOT / "docs" / "operations.md").read_text()
    table = text[text.index("| variable | default | meaning |"):]
    table = table[:table.index("\n\n")]
    listed = re.findall(r"^\| `ANANACARE_([A-Z_]+)`", table, flags=re.M)
    assert sorted(listed) == sorted(DEFAULTS)
    assert len(listed) == len(set(listed))


def test_every_variable_the_docs_name_is_a_setting():
    typo = "QUALTY_PROFILE"  # operations.md's example of the warning a misspelt variable gets
    for doc in DOCS:
        for name in re.findall(r"ANANACARE_([A-Z][A-Z_]*[A-Z])", doc.read_text()):
            assert name in DEFAULTS or name == typo, f"{doc.name}: ANANACARE_{name} is not a setting"


def _threshold(name, profile):
    value = PROFILES[profile].get(name, 1)
    if isinstance(value, dict):
        text = f"q >= {value['min_quality']}"
    elif isinstance(value, list):
        text = f"{value[0]}-{value[1]}"
    elif name == "single_face":
        text = f"= {value}"
    else:
        text = {"min": ">= ", "max": "<= ", "abs_max": "abs <= "}[CHECK_KINDS[name]] + str(value)
    return text + (" *" if name in NOT_REQUIRED[profile] else "")


def test_the_profiles_table_is_the_codes():
    order = ["lenient", "normal", "strict", "ofiq", "skin"]
    assert sorted(order) == sorted(PROFILES)
    rows = [f"| check | {' | '.join(f'`{p}`' for p in order)} |", "|---|" + "---|" * len(order)]
    rows += [f"| `{name}` | " + " | ".join(_threshold(name, p) for p in order) + " |"
             for name in ("single_face", *CHECK_KINDS)]
    assert "\n".join(rows) in (ROOT / "docs" / "quality.md").read_text()


HISTORY = [
    (r"\bissues? \d+", "an issue number"),
    (r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,12}\b(?![-\w])", "a commit hash"),
    (r"\b20\d\d-\d\d-\d\d\b", "a date"),
    (r"(?i)\b(earlier|previous|before this|used to|no longer|was changed|now \d)", "a before-and-after"),
]


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_no_history_in_the_docs(doc):
    text = doc.read_text()
    for pattern, what in HISTORY:
        found = re.search(pattern, text)
        assert not found, f"{doc.name} holds {what}: {text[max(0, found.start() - 60):found.end() + 60]!r}"
