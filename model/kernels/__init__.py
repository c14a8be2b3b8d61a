"""Numba kernels of D&B: scalar functions of one tile and one hour.

Layer 1 of ARCHITECTURE.md: no xarray, no Dask, no allocation. Every differentiable kernel
takes and returns floats so that its tangent-linear and adjoint can sit beside it.

Derivative convention (Tapenade naming; issue "tangent-linear and adjoint"). For a kernel
``y1, y2 = f(a, b, c)`` whose active (differentiable) inputs are ``a`` and ``b``:

* ``f_tl(a, b, c, a_d, b_d, y1_d, y2_d) -> (y1, y2)``: the primal once, then the tangents
  of ``k`` directions at once: ``a_d``, ``b_d`` are input arrays of shape (k,), ``y1_d``,
  ``y2_d`` output arrays of shape (k,) that the kernel overwrites (k = 1 is the single
  direction; no allocation inside).
* ``f_ad(a, b, c, y1_b, y2_b) -> (a_b, b_b)``: recomputes the primal and returns the
  adjoints of the active inputs for the output adjoints (one reverse direction).
* kernels that update a state vector in place (``carbon_step``) take and update the
  tangent array ``state_d`` of shape (n_state, k) in ``_tl``, and the adjoint vector
  ``state_b`` (n_state,) in ``_ad`` (reverse of the update, given the state before it).

Inactive inputs (forcing, flags, constants) carry no ``_d``/``_b``. The docstring of each
``_tl``/``_ad`` names the active inputs. :mod:`tccas.model.verification` proves each pair
with a Taylor test and a dot-product test.

All kernels are compiled with :data:`kernel` (cached on disk). Its fast-math flags allow
fused multiply-add, reciprocal instead of division, signed-zero folding and approximate
library functions; they do not assume the absence of NaN or infinity, so a NaN in the model
still propagates and is reported. Measured on this project's 2-core machine: 1.23 ->
0.83 us per tile-hour (BENCHMARKS.md). The NumPy error model makes a division by zero give
inf or NaN (IEEE) instead of raising inside a run; the block driver checks every tile for
non-finite values and reports the tile, PFT and day.
"""

import hashlib
import importlib.util
import os
import shutil
from functools import partial
from pathlib import Path

import numba
from numba import njit

KEEP_CACHES = 4


def _source_fingerprint() -> str:
    """Hash of every source file of tccas.model and tccas.operators."""
    digest = hashlib.sha256()
    folders = [Path(__file__).resolve().parents[1]]
    spec = importlib.util.find_spec("tccas.operators")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p) for p in spec.submodule_search_locations]
    for folder in folders:
        for source in sorted(folder.rglob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _use_fingerprinted_cache() -> None:
    """Keep compiled kernels in ``$TCCAS_NUMBA_CACHE`` (default ~/.cache/tccas/numba)
    under a fingerprint of the sources.

    Numba invalidates a cached function only when its own file changes; the kernels
    freeze constants of other modules (layout indices, parameter table) at compile time,
    so a change there would leave stale machine code. A cache per source fingerprint
    cannot. An explicit NUMBA_CACHE_DIR is respected; only the newest
    ``KEEP_CACHES`` fingerprints are kept.
    """
    if numba.config.CACHE_DIR:
        return
    root = Path(os.environ.get("TCCAS_NUMBA_CACHE",
                               Path.home() / ".cache" / "tccas" / "numba"))
    current = root / _source_fingerprint()
    numba.config.CACHE_DIR = str(current)
    if root.is_dir():
        others = sorted((p for p in root.iterdir() if p.is_dir() and p != current),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in others[KEEP_CACHES - 1:]:
            shutil.rmtree(stale, ignore_errors=True)


_use_fingerprinted_cache()

KERNEL_FASTMATH = frozenset({"contract", "arcp", "nsz", "afn"})

kernel = partial(njit, cache=True, fastmath=set(KERNEL_FASTMATH), error_model="numpy")
