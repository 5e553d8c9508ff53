"""docs/deploy.md's cost of one million payments is recomputed from the bench run it quotes.

`docs/bench/lambda-cost.jsonl` holds that run's figures (`make bench`, the lines of
`bench/lambda_cost.py`); `bench/aws_cost.py` turns them into the table. The document
must hold that very table, the prices' date and region, and the figures it cites, so it
cannot drift from the measurement.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench import aws_cost

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "bench" / "lambda-cost.jsonl"
DEPLOY = ROOT / "docs" / "deploy.md"


def _section() -> str:
    text = DEPLOY.read_text()
    start = text.index("## Cost of one million payments")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_table_is_the_one_the_figures_give() -> None:
    figures = aws_cost.load(FIGURES)
    assert aws_cost.table(figures) in _section()


def test_the_prices_date_and_region_are_stated() -> None:
    heading = _section().splitlines()[0]
    assert aws_cost.PRICES_DATE in heading and aws_cost.REGION in heading


def test_the_cited_figures_are_the_run_s() -> None:
    figures = aws_cost.load(FIGURES)
    section = _section()
    accept = figures["lambda_accept_billed_ms"]
    drain = figures["lambda_drain_billed_ms_per_payment"]
    for cited in (
        f"{accept['value']} ms",
        f"{accept['peak_rss_mb']} MB",
        f"{drain['value']} ms",
        f"{drain['peak_rss_mb']} MB",
        f"{drain['batch_size']:,}",
    ):
        assert cited in section, cited
    total = re.search(r"\*\*([0-9.]+) USD per million payments\*\*", section)
    assert total is not None and float(total.group(1)) == round(aws_cost.total(figures), 2)


def test_the_cost_follows_the_figures() -> None:
    """The arithmetic itself: doubling the API's billed ms doubles its compute line."""
    figures = aws_cost.load(FIGURES)
    before = dict((part, usd) for part, _, usd in aws_cost.rows(figures))
    figures["lambda_accept_billed_ms"] = {
        **figures["lambda_accept_billed_ms"],
        "value": figures["lambda_accept_billed_ms"]["value"] * 2,
    }
    after = dict((part, usd) for part, _, usd in aws_cost.rows(figures))
    (api,) = [part for part in before if part.startswith("Lambda compute, API")]
    assert after[api] == 2 * before[api]
    assert after["API Gateway REST requests"] == 3.50
