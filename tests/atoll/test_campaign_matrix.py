"""The bench matrix (`atoll campaign matrix`): every image booted with every seed; a seed drives
the system the same way each time (seeded lines typed at seeded virtual times) and different
seeds differently."""

from __future__ import annotations

from atoll.campaign.executor import LocalExecutor
from atoll.campaign.images import ImageRef
from atoll.campaign.matrix import matrix
from tests.atoll.campaign.build import demo_image


def test_the_matrix_boots_every_image_with_every_seed_and_a_seed_replays_the_same_run():
    image = ImageRef.load(demo_image("hifive1"))
    with LocalExecutor(1) as executor:
        first = matrix([image], range(1, 3), executor)
        again = matrix([image], range(1, 2), executor)

    assert [(r.board, r.seed) for r in first] == [("hifive1", 1), ("hifive1", 2)]
    assert not any(r.finding for r in first), [r.error or r.faults for r in first]
    assert first[0].output_digest == again[0].output_digest and first[0].ipc == again[0].ipc
    assert first[0].output_digest != first[1].output_digest
