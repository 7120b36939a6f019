"""The exception ValueRisk raises for problems a user can fix, and its warnings.

Every message follows the same shape: what was wrong, what was expected, what was
received, and how to fix it. Pages show the message with ``st.error``; the CLI prints it
on one line and exits non-zero.
"""

from __future__ import annotations

__all__ = [
    "ValueRiskError",
    "ValueRiskWarning",
    "CensoredDistanceWarning",
    "SmallGroupWarning",
]


class ValueRiskError(Exception):
    """A problem with the user's input, data or settings, worded for the user."""


class ValueRiskWarning(UserWarning):
    """The computation ran, but the result needs a caveat when read."""


class CensoredDistanceWarning(ValueRiskWarning):
    """Some boundary-distance searches did not cross the boundary in their budget."""


class SmallGroupWarning(ValueRiskWarning):
    """A group is too small for a metric (such as TPR at 0.1% FPR) to mean anything."""
