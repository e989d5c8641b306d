"""Fault soak, short CI version (~160 tool calls over 8 sessions; bench/soak.py runs 1,000).

Sandbox on loopback with fail_rate 0.1, drop_rate 0.05, rate_limit 20/s, latency 20 ms +- 20 ms.
See soaking.py for the phases and what each check means.
"""

from __future__ import annotations

import logging

import pytest

from .soaking import SoakConfig, run_soak

pytestmark = pytest.mark.anyio


async def test_soak_nothing_lost_nothing_twice() -> None:
    report = await run_soak(SoakConfig(seed=20261121, reads=80, writes=50))
    logging.getLogger(__name__).warning("soak: %s", report.summary())
    assert report.calls >= 140
    assert report.retries > 0, "the faults did not bite: the soak proves nothing"
    assert not report.duplicates, report.duplicates
    assert not report.mismatches, report.mismatches
    assert not report.bad_failures, report.bad_failures
    assert report.unknown_outcomes > 0, "no create met a fault: reconciliation was not exercised"
    # surfaced failures are allowed (each says why and what to do), but must stay rare
    assert len(report.failures) <= report.calls // 20, report.failures
