"""L-BFGS-B minimisation of the cost in whitened control space, with a checkpoint per
iteration and exact resumption.

scipy's L-BFGS-B (Byrd et al. 1995, doi:10.1137/0916069; Zhu et al. 1997,
doi:10.1145/279232.279236) drives :class:`tccas.pipeline.cost.CostFunction` with box
bounds on z from the parameter table. Every evaluation (z, J, the cost terms, dJ/dz) is
recorded; after each iteration a progress line is logged and the record handed to a
checkpoint callback (the posterior store keeps it).

Resumption: L-BFGS-B is deterministic, so a restarted minimisation asks for the same
sequence of z. :func:`minimise` answers the recorded ones from the record (bit-identical
values, no model runs) and evaluates from the first new z on, so an interrupted run
resumes where it stopped and reaches exactly the optimum of an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from tccas.pipeline.config import OptimiserConfig
from tccas.pipeline.cost import CostFunction


@dataclass
class Record:
    """The evaluations of a minimisation and the evaluation index of each iterate.

    ``z (n_eval, n)``, ``cost (n_eval,)``, ``terms (n_eval, n_term)`` in the order of
    ``term_names``, ``gradient (n_eval, n)``; ``iterations`` lists the evaluation index of
    the start point and of each accepted iterate.
    """

    term_names: tuple[str, ...]
    z: list[np.ndarray] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    terms: list[np.ndarray] = field(default_factory=list)
    gradient: list[np.ndarray] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)

    def find(self, z: np.ndarray) -> int | None:
        """Index of a recorded evaluation at exactly z."""
        for i, recorded in enumerate(self.z):
            if np.array_equal(recorded, z):
                return i
        return None


@dataclass(frozen=True)
class OptimisationResult:
    """The optimum z, its evaluation index in the record, whether L-BFGS-B converged, and
    its message."""

    z: np.ndarray
    best: int
    converged: bool
    message: str
    record: Record


def minimise(cost: CostFunction, options: OptimiserConfig, z0: np.ndarray | None = None,
             record: Record | None = None,
             checkpoint: Callable[[Record], None] | None = None,
             log: Callable[[str], None] = print) -> OptimisationResult:
    """Minimise ``cost`` from ``z0`` (default 0, the prior) with L-BFGS-B.

    ``record`` from a checkpoint resumes an interrupted minimisation (see the module
    docstring); ``checkpoint(record)`` is called after every iteration.
    """
    space = cost.space
    term_names = ("prior", *(s.name for s in cost.streams))
    record = Record(term_names) if record is None else record
    if record.term_names != term_names:
        raise ValueError(f"checkpoint terms {record.term_names} do not match {term_names}")
    def evaluate(z: np.ndarray) -> tuple[float, np.ndarray]:
        index = record.find(z)
        if index is None:
            evaluation = cost(z)
            record.z.append(np.array(z, dtype=np.float64))
            record.cost.append(evaluation.cost)
            record.terms.append(np.array([evaluation.terms[t] for t in term_names]))
            record.gradient.append(evaluation.gradient)
            index = len(record.z) - 1
        return record.cost[index], record.gradient[index].copy()

    callbacks = {"count": 0}

    def progress(iterate: np.ndarray) -> None:
        callbacks["count"] += 1
        iteration = callbacks["count"]
        index = record.find(iterate)
        if iteration < len(record.iterations):      # replayed from the checkpoint
            return
        record.iterations.append(int(index))
        log(format_progress(iteration, record, int(index)))
        if checkpoint is not None:
            checkpoint(record)

    start = np.zeros(space.n) if z0 is None else np.asarray(z0, dtype=np.float64)
    evaluate(start)
    if not record.iterations:
        record.iterations.append(record.find(start))
        log(format_progress(0, record, record.iterations[0]))
        if checkpoint is not None:
            checkpoint(record)
    result = minimize(evaluate, start, jac=True, method="L-BFGS-B", bounds=space.z_bounds(),
                      callback=progress,
                      options={"maxiter": options.max_iterations, "maxcor": options.memory,
                               "gtol": options.gradient_tolerance,
                               "ftol": options.cost_tolerance})
    best = record.find(result.x)
    if best is None:
        evaluate(result.x)
        best = len(record.z) - 1
    return OptimisationResult(z=np.array(result.x), best=int(best),
                              converged=bool(result.success), message=str(result.message),
                              record=record)


def format_progress(iteration: int, record: Record, index: int) -> str:
    """One progress line: iteration, evaluations so far, J, each term, |dJ/dz|."""
    terms = "  ".join(f"{name}={value:.6g}" for name, value in
                      zip(record.term_names, record.terms[index], strict=True))
    return (f"iteration {iteration:3d}  evaluations {len(record.z):3d}  "
            f"J={record.cost[index]:.8g}  {terms}  "
            f"|g|={float(np.linalg.norm(record.gradient[index])):.3g}")
