import numpy as np

from itineraries.solver.instance import load_instance
from itineraries.solver.space import compile_space
from itineraries.solver.subproblem import best_per_group

SMALL = "/work/shared/instances/small-s4.json"


def test_each_group_brings_its_best_candidates_and_its_incumbent():
    space = compile_space(load_instance(SMALL))
    ranking = np.random.default_rng(0).random(space.n_candidates)
    cands = np.arange(space.n_candidates)
    group_of = space.opt_group[space.cand_option]
    widest = int(np.bincount(group_of).argmax())  # a group with more candidates than it may bring
    assert np.sum(group_of == widest) > 2
    incumbent = int(np.argmin(np.where(group_of == widest, ranking, np.inf)))  # its worst one

    kept = best_per_group(space, cands, ranking, 2, {incumbent})

    assert incumbent in kept
    assert np.all(np.diff(kept) > 0)  # still in candidate order
    for group in range(space.n_groups):
        own = cands[group_of == group]
        best_two = set(own[np.argsort(-ranking[own])[:2]].tolist())
        expected = best_two | ({incumbent} if group == widest else set())
        assert set(kept[group_of[kept] == group].tolist()) == expected


def test_no_open_candidates_give_none():
    space = compile_space(load_instance(SMALL))
    empty = np.zeros(0, dtype=np.int64)
    assert len(best_per_group(space, empty, np.zeros(space.n_candidates), 3, set())) == 0
