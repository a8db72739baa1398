"""The explorer's face and how it is edited, free of Qt so it can be tested plainly.

`FaceState` is one face as the person sees it: the latent under the sliders, what
"reset" returns to, the seed it came from, truncation and direction amounts. It is
immutable and its arrays are read-only, so the same object can sit in the undo history
and travel to the render thread without copies or locks.

`ExplorerSession` holds the current face, the undo history and the locked dimensions,
and turns every gesture (drag, seed step, randomise, open a face...) into a new state.
Live edits (a slider being dragged) change the state without recording it; `commit()`
makes them one undo step.

Views subscribe to the session's changes (`subscribe(callback)`, napari's evented-model
way): every method says what it changed (`Change`), so a view refreshes what that change
touches and no gesture handler picks its refresh by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Callable, Hashable, Iterable, Mapping

import numpy as np

from facestudio.errors import FaceStudioError
from facestudio.latent.directions import direction_offset
from facestudio.latent.sampling import MAX_PSI, check_seed, latent_for_seed, random_seed
from facestudio.models.bundle import DirectionSet
from facestudio.sessions.explorer.latent_history import LatentHistory

# Range of the per-dimension sliders: z ~ N(0, 1), so +-4 covers all but 1 in 15000 draws.
DIMENSION_RANGE = 4.0
# Range of the direction sliders, in latent units along a unit direction.
DIRECTION_RANGE = 6.0
# The whole range the renderer accepts, so every saved face's truncation can be shown.
PSI_RANGE = (0.0, MAX_PSI)
# Seeds the seed box can show (a Qt spin box holds 32-bit ints); seeds step round within it.
MAX_SEED = 2**31 - 1

DirectionKey = tuple[str, str]  # (kind, name)


class Change(Enum):
    """What a session change touched, for the views subscribed to it."""

    LIVE = "live"  # the face moved under a dragging hand: redraw it, nothing recorded
    COMMITTED = "committed"  # a live edit became an undo step: redraw, summaries, undo state, neighbours
    FACE = "face"  # a whole new face (seed, undo, opened file...): every control follows it
    LOCK = "lock"  # one dimension locked or unlocked (its row shows it already)
    LOCKS_CLEARED = "locks_cleared"  # every lock released: the rows follow
    DIRECTIONS = "directions"  # direction sets added or replaced


class LatentSizeError(FaceStudioError):
    """A latent that does not fit the open model (another model's face)."""


@dataclass(frozen=True, eq=False)
class StyleChoice:
    """A style model's edits beyond z (W+): directions on layer ranges, a donor's layers, the cutoff.

    `amounts`: (kind, name, layers, amount) with `layers` the ws it moves; `mix_seed` the donor
    face (a seed) whose `mix_layers` replace the face's; `cutoff` the layers truncation acts on
    (None: all). Empty for DCGAN models, whose W is Z.
    """

    amounts: tuple[tuple[str, str, tuple[int, ...], float], ...] = ()
    mix_seed: int | None = None
    mix_layers: tuple[int, ...] = ()
    cutoff: int | None = None
    # A face that lives in W+ (found from a photo, opened from a w/w+ face PNG): its (num_ws, w_dim)
    # styles replace the z face's; truncation still applies. None: the face is its z.
    wplus: np.ndarray | None = None
    # A donor that is a face rather than a seed (a face PNG, a gallery face): its final (num_ws, w_dim)
    # styles, used instead of `mix_seed`; `mix_label` names it for the person.
    mix_face: np.ndarray | None = None
    mix_label: str = ""

    def __post_init__(self) -> None:
        for name in ("wplus", "mix_face"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _frozen(getattr(self, name)))
        cleaned = tuple(sorted((str(k), str(n), tuple(sorted(int(i) for i in layers)), float(a))
                               for k, n, layers, a in self.amounts if a != 0.0 and layers))
        object.__setattr__(self, "amounts", cleaned)
        object.__setattr__(self, "mix_layers", tuple(sorted(int(i) for i in self.mix_layers)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StyleChoice):
            return NotImplemented
        def same(a, b) -> bool:
            return (a is None) == (b is None) and (a is None or np.array_equal(a, b))

        return same(self.wplus, other.wplus) and same(self.mix_face, other.mix_face) and (
            self.amounts, self.mix_seed, self.mix_layers, self.cutoff, self.mix_label) == (
            other.amounts, other.mix_seed, other.mix_layers, other.cutoff, other.mix_label)

    __hash__ = None  # type: ignore[assignment]

    @property
    def is_empty(self) -> bool:
        return (not self.amounts and not self.mixes and self.cutoff is None and self.wplus is None)

    @property
    def mixes(self) -> bool:
        """True when some layers come from a donor (a seed or a face)."""
        return bool(self.mix_layers) and (self.mix_seed is not None or self.mix_face is not None)

    def amount(self, kind: str, name: str, layers: tuple[int, ...]) -> float:
        layers = tuple(sorted(layers))
        return next((a for k, n, ls, a in self.amounts if (k, n, ls) == (kind, name, layers)), 0.0)

    def with_amount(self, kind: str, name: str, layers: tuple[int, ...], value: float) -> "StyleChoice":
        layers = tuple(sorted(layers))
        rest = tuple(e for e in self.amounts if e[:3] != (kind, name, layers))
        return replace(self, amounts=rest + ((kind, name, layers, float(value)),))


def _frozen(array: np.ndarray) -> np.ndarray:
    out = np.array(array, dtype=np.float32, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class FaceState:
    """One face: latent `base` (nz,), reset target `origin`, seed, truncation, direction amounts."""

    base: np.ndarray
    origin: np.ndarray
    seed: int | None = None
    psi: float = 1.0
    amounts: tuple[tuple[str, str, float], ...] = field(default=())
    style: StyleChoice = field(default_factory=StyleChoice)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", _frozen(self.base))
        object.__setattr__(self, "origin", _frozen(self.origin))
        if self.base.ndim != 1 or self.base.shape != self.origin.shape:
            raise ValueError(f"base {self.base.shape} and origin {self.origin.shape} must be equal 1-D latents")
        # Zero amounts are dropped and the rest sorted, so equal faces compare equal.
        cleaned = tuple(sorted((str(k), str(n), float(a)) for k, n, a in self.amounts if a != 0.0))
        object.__setattr__(self, "amounts", cleaned)
        object.__setattr__(self, "psi", float(self.psi))

    @property
    def nz(self) -> int:
        return int(self.base.shape[0])

    @property
    def edited(self) -> bool:
        """True when the sliders moved the latent away from where the face started."""
        return not np.array_equal(self.base, self.origin)

    def amount(self, kind: str, name: str) -> float:
        for k, n, a in self.amounts:
            if k == kind and n == name:
                return a
        return 0.0

    def amount_map(self) -> dict[DirectionKey, float]:
        return {(k, n): a for k, n, a in self.amounts}

    def with_amount(self, kind: str, name: str, value: float) -> FaceState:
        amounts = self.amount_map()
        amounts[(kind, name)] = float(value)
        return replace(self, amounts=tuple((k, n, a) for (k, n), a in amounts.items()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FaceState):
            return NotImplemented
        return (
            self.seed == other.seed
            and self.psi == other.psi
            and self.amounts == other.amounts
            and self.style == other.style
            and np.array_equal(self.base, other.base)
            and np.array_equal(self.origin, other.origin)
        )

    __hash__ = None  # type: ignore[assignment]


def _clamp_psi(psi: float) -> float:
    lo, hi = PSI_RANGE
    return float(min(max(float(psi), lo), hi))


def face_for_seed(seed: int, nz: int, *, psi: float = 1.0, amounts: tuple = ()) -> FaceState:
    z = latent_for_seed(seed, nz)
    return FaceState(base=z, origin=z, seed=seed, psi=psi, amounts=amounts)


class ExplorerSession:
    """Current face, undo history, locked dimensions and the model's directions."""

    def __init__(self, nz: int, *, seed: int = 0, history_limit: int = 1000) -> None:
        self._state = face_for_seed(check_seed(seed), nz)
        self.history: LatentHistory[FaceState] = LatentHistory(self._state, limit=history_limit)
        self.locked: set[int] = set()
        self.directions: dict[str, DirectionSet] = {}
        self.last_seed = seed
        self._listeners: list[Callable[[Change], None]] = []

    # ------------------------------------------------------------ change events
    def subscribe(self, listener: Callable[[Change], None]) -> None:
        """Call `listener(change)` after every change of the session."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Change], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    def check_latent(self, latent: np.ndarray, where: str) -> np.ndarray:
        """`latent` as a float32 (nz,) array, or LatentSizeError saying what does not fit.

        The one check for every way a face arrives (file, gallery, paste, morph frame).
        """
        z = np.asarray(latent, dtype=np.float32)
        if z.ndim != 1 or z.shape[0] != self.nz:
            size = z.shape[0] if z.ndim == 1 else "x".join(map(str, z.shape))
            raise LatentSizeError(f"{where} holds a face for a model with a latent size of {size}; the open model uses {self.nz}.")
        if not np.all(np.isfinite(z)):
            raise LatentSizeError(f"{where} holds numbers that are not finite; it cannot be shown.")
        return z

    # ------------------------------------------------------------ reading
    @property
    def state(self) -> FaceState:
        return self._state

    @property
    def nz(self) -> int:
        return self._state.nz

    @property
    def dirty(self) -> bool:
        """True while a live edit has not been committed to the history yet."""
        return self._state != self.history.current

    def direction_offset(self, amounts: Mapping[DirectionKey, float] | None = None) -> np.ndarray:
        """Sum of amount x direction over the model's directions (names it lacks are ignored)."""
        amounts = self._state.amount_map() if amounts is None else amounts
        offset = np.zeros(self.nz, dtype=np.float32)
        by_kind: dict[str, dict[str, float]] = {}
        for (kind, name), amount in amounts.items():
            dset = self.directions.get(kind)
            if dset is not None and name in dset.names:
                by_kind.setdefault(kind, {})[name] = amount
        for kind, named in by_kind.items():
            offset += direction_offset(self.directions[kind], named)
        return offset

    def amounts_available(self, amounts: Mapping[DirectionKey, float]) -> bool:
        """True when the model has every direction these amounts name."""
        return all(kind in self.directions and name in self.directions[kind].names for kind, name in amounts)

    def effective_latent(self, state: FaceState | None = None) -> np.ndarray:
        """The latent that is rendered: the sliders' latent plus the direction offsets."""
        state = self._state if state is None else state
        return (state.base + self.direction_offset(state.amount_map())).astype(np.float32)

    # ------------------------------------------------------------ live edits (then commit)
    def set_dimension(self, index: int, value: float) -> FaceState:
        if not 0 <= index < self.nz:
            raise IndexError(f"latent dimension {index} is outside 0..{self.nz - 1}")
        base = self._state.base.copy()
        base[index] = np.float32(value)
        return self._live(replace(self._state, base=base))

    def set_amount(self, kind: str, name: str, value: float) -> FaceState:
        return self._live(self._state.with_amount(kind, name, value))

    def set_style_amount(self, kind: str, name: str, layers: tuple[int, ...], value: float) -> FaceState:
        """A style direction on `layers` (live, like a direction slider; commit to record)."""
        return self._live(replace(self._state, style=self._state.style.with_amount(kind, name, layers, value)))

    def show_wplus(self, ws: np.ndarray, *, psi: float | None = None) -> FaceState:
        """A face that lives in W+ (num_ws, w_dim), as one undo step; style edits start afresh on it."""
        ws = np.asarray(ws, dtype=np.float32)
        if ws.ndim != 2 or not np.all(np.isfinite(ws)):
            raise LatentSizeError(f"A W+ face needs a finite (layers, w_dim) array, not shape {ws.shape}.")
        s = self._state
        return self._set(FaceState(base=s.base, origin=s.base, seed=None, psi=s.psi if psi is None else _clamp_psi(psi),
                                   style=StyleChoice(wplus=ws)))

    def set_style(self, style: StyleChoice) -> FaceState:
        """New W+ edits (style mixing, cutoff, cleared directions) as one undo step."""
        return self._set(replace(self._state, style=style))

    def set_psi(self, psi: float) -> FaceState:
        return self._live(replace(self._state, psi=_clamp_psi(psi)))

    def _live(self, state: FaceState) -> FaceState:
        self._state = state
        self._emit(Change.LIVE)
        return state

    def commit(self, *, merge_key: Hashable | None = None) -> bool:
        """Record the current state as one undo step; False (and no event) when nothing changed."""
        recorded = self.history.record(self._state, merge_key=merge_key)
        if recorded:
            self._emit(Change.COMMITTED)
        return recorded

    # ------------------------------------------------------------ whole-face changes (recorded)
    def _set(self, state: FaceState) -> FaceState:
        self._state = state
        self.history.record(state)
        self._emit(Change.FACE)
        return state

    def _show(self, state: FaceState | None) -> FaceState | None:
        """Make an undo/redo target current (the seed box follows the face's seed)."""
        if state is not None:
            self._state = state
            if state.seed is not None:
                self.last_seed = state.seed
            self._emit(Change.FACE)
        return state

    def go_to_seed(self, seed: int) -> FaceState:
        """The face of `seed`, keeping truncation and direction amounts."""
        seed = check_seed(seed)
        self.last_seed = seed
        s = self._state
        z = latent_for_seed(seed, self.nz)
        if self.locked:
            z = z.copy()
            idx = sorted(self.locked)
            z[idx] = s.base[idx]
        return self._set(FaceState(base=z, origin=z, seed=seed if not self.locked else None, psi=s.psi, amounts=s.amounts,
                                   style=replace(s.style, wplus=None)))

    def step_seed(self, delta: int) -> FaceState:
        return self.go_to_seed((self.last_seed + delta) % (MAX_SEED + 1))

    def randomise(self, rng: np.random.Generator) -> FaceState:
        """A fresh random face from a random seed; locked dimensions keep their values."""
        return self.go_to_seed(random_seed(rng, MAX_SEED))

    def reset_dimension(self, index: int) -> FaceState:
        base = self._state.base.copy()
        base[index] = self._state.origin[index]
        return self._set(replace(self._state, base=base))

    def reset_all(self) -> FaceState:
        """Every unlocked dimension back to where the face started."""
        base = self._state.origin.copy()
        if self.locked:
            idx = sorted(self.locked)
            base[idx] = self._state.base[idx]
        return self._set(replace(self._state, base=base))

    def reset_direction(self, kind: str, name: str) -> FaceState:
        """One direction slider back to zero, as one undo step."""
        return self._set(self._state.with_amount(kind, name, 0.0))

    def reset_directions(self, kind: str | None = None) -> FaceState:
        keep = tuple((k, n, a) for k, n, a in self._state.amounts if kind is not None and k != kind)
        return self._set(replace(self._state, amounts=keep))

    def set_face(self, latent: np.ndarray, *, psi: float | None = None, seed: int | None = None,
                 keep_amounts: bool = False) -> FaceState:
        """A whole new face (opened PNG, pasted latent, clicked variation); becomes the reset target."""
        z = np.asarray(latent, dtype=np.float32)
        if z.shape != (self.nz,):
            raise ValueError(f"latent of shape {z.shape} does not fit a model with nz={self.nz}")
        s = self._state
        return self._set(FaceState(base=z, origin=z, seed=seed, psi=s.psi if psi is None else _clamp_psi(psi),
                                   amounts=s.amounts if keep_amounts else (),
                                   style=replace(s.style, wplus=None) if keep_amounts else StyleChoice()))

    def set_face_with_amounts(self, latent: np.ndarray, amounts: Mapping[DirectionKey, float], *,
                              psi: float | None = None) -> FaceState:
        """A face whose `latent` already includes direction `amounts` (as face PNGs store it).

        Restores the direction sliders when the model has those directions and taking them
        back out reproduces `latent` to the bit; otherwise the directions stay baked into
        the latent (same face, sliders at zero). Either way the rendered latent is `latent`.
        """
        z = np.asarray(latent, dtype=np.float32)
        amounts = {k: float(a) for k, a in amounts.items() if a != 0.0}
        if amounts and self.amounts_available(amounts):
            offset = self.direction_offset(amounts)
            base = (z - offset).astype(np.float32)
            for _ in range(4):  # float32 rounding: step the few stray elements by one ulp
                off_by = (base + offset) - z
                if not off_by.any():
                    break
                base = np.where(off_by != 0, np.nextafter(base, np.where(off_by > 0, -np.inf, np.inf)).astype(np.float32), base)
            candidate = FaceState(base=base, origin=base, psi=self._state.psi if psi is None else _clamp_psi(psi),
                                  amounts=tuple((k, n, a) for (k, n), a in amounts.items()))
            if np.array_equal(self.effective_latent(candidate), z):
                return self._set(candidate)
        return self.set_face(z, psi=psi)

    def restore(self, state: FaceState) -> FaceState:
        """Show `state` (e.g. from the gallery) as a new undo step."""
        if state.nz != self.nz:
            raise ValueError(f"face has nz={state.nz}, the model nz={self.nz}")
        return self._set(state)

    def set_locked(self, index: int, locked: bool) -> None:
        """Lock a dimension (seeds, randomise and resets leave it alone) or release it."""
        (self.locked.add if locked else self.locked.discard)(index)
        self._emit(Change.LOCK)

    def toggle_lock(self, index: int) -> bool:
        self.set_locked(index, index not in self.locked)
        return index in self.locked

    def unlock_all(self) -> None:
        self.locked.clear()
        self._emit(Change.LOCKS_CLEARED)

    # ------------------------------------------------------------ undo / redo
    def undo(self) -> FaceState | None:
        """Drop an uncommitted live edit, else step back in the history."""
        if self.dirty:
            return self._show(self.history.current)
        return self._show(self.history.undo())

    def redo(self) -> FaceState | None:
        if self.dirty:
            return None
        return self._show(self.history.redo())

    # ------------------------------------------------------------ variations and models
    def variation_bases(self, count: int, strength: float, seed: int) -> np.ndarray:
        """`count` small random perturbations of the current latent (locked dims untouched)."""
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((count, self.nz)).astype(np.float32) * np.float32(strength)
        if self.locked:
            noise[:, sorted(self.locked)] = 0.0
        return (self._state.base[None, :] + noise).astype(np.float32)

    def change_model(self, nz: int, directions: Mapping[str, DirectionSet]) -> bool:
        """Adopt a newly opened model; returns True when the face and its history were kept.

        No event: the window adopting a model refreshes every view itself.

        With the same latent size, the current face and every undo step stay meaningful
        (a latent is just a point, whichever network draws it); otherwise the session
        starts over on the last seed.
        """
        self.directions = dict(directions)
        if nz == self.nz:
            return True
        self.locked = set()  # dimensions of another latent space mean nothing here
        self._state = face_for_seed(self.last_seed, nz, psi=self._state.psi)
        self.history.reset(self._state)
        return False

    def set_directions(self, directions: Iterable[DirectionSet]) -> None:
        """Add or replace direction sets (e.g. SeFa/PCA computed after the model opened)."""
        for dset in directions:
            if dset.vectors.shape[1] == self.nz:
                self.directions[dset.kind] = dset
        self._emit(Change.DIRECTIONS)
