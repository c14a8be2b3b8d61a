"""The one exception type for user errors (bad input, bad configuration).

Every layer raises :class:`TccasInputError` (or a subclass) for problems a user can fix.
The command line prints its message as one line and exits with status 2; anything else
is a bug and keeps its traceback.
"""


class TccasInputError(ValueError):
    """A user error: the message names the file, variable or value that is wrong."""


class NonFiniteModelError(TccasInputError):
    """The model produced NaN or infinity; the message names the tile, its PFT, the day
    and the variable (usually parameters outside their physical range)."""
