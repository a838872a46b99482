"""Benchmark: build + parse VietQR payloads on one core.

Run from the repository root: ``python benchmarks/bench_vietqr.py [N] [ROUNDS]``
(defaults 50,000 and 3). Each round builds and parses the same N varied payloads;
prints N and build+parse pairs per second for the best and the median round
(target >= 20,000/s). The best round is the least disturbed by other processes.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_N = 50_000
DEFAULT_ROUNDS = 3
NOTES = [
    "Tiền chợ Bến Thành",
    "thanh toan don hang",
    "Mua rau sạp 12",
    "Chuyen tien",
    None,
]


def main(argv: list[str]) -> int:
    """Build and parse N payloads with varied inputs and print the throughput."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from chopay.vietqr import BANKS, build_payload, parse_payload

    n = int(argv[1]) if len(argv) > 1 else DEFAULT_N
    rng = random.Random(20240305)
    bins = [bank.bin for bank in BANKS]
    cases = []
    for i in range(n):
        card = i % 10 == 0
        account = str(rng.randrange(10**9, 10**16 if card else 10**13))
        cases.append(
            (
                rng.choice(bins),
                account,
                rng.choice([None, rng.randrange(1_000, 50_000_000)]),
                rng.choice(NOTES),
                "QRIBFTTC" if card else "QRIBFTTA",
                f"HD{i:07d}" if i % 3 == 0 else None,
            )
        )

    rounds = int(argv[2]) if len(argv) > 2 else DEFAULT_ROUNDS
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        checksum = 0
        for bank_bin, account, amount, note, service, bill in cases:
            text = build_payload(
                bank_bin, account, amount=amount, purpose=note, service=service, bill_number=bill
            )
            parsed = parse_payload(text)
            checksum += len(parsed.account_number)
        timings.append(time.perf_counter() - start)
        if checksum <= 0:
            raise RuntimeError("benchmark parsed nothing")

    best = min(timings)
    median = statistics.median(timings)
    print(f"N={n} build+parse pairs per round, {rounds} round(s)")
    print(f"best:   {n / best:,.0f} build+parse per second ({best / n * 1e6:.1f} us each)")
    print(f"median: {n / median:,.0f} build+parse per second ({median / n * 1e6:.1f} us each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
