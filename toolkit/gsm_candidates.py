"""The finite set of service times an optimal guaranteed-service solution can use.

The cost ``sum_j c_j sqrt(SI_j + T_j - S_j)`` is concave and every constraint bounds
a difference of two service times (``SI_j >= S_i``, ``S_j <= SI_j + T_j``) or one
service time (``S_j >= 0``, ``S_j <= max_outbound``, ``SI_j >= external_inbound``).
A concave function attains its minimum over a polytope at a vertex, and at a vertex
every service time is pinned by a chain of tight constraints to a bound: its value
is the bound plus or minus processing times along a path of the network. So an
optimal solution exists among the values reachable from the bounds by

- ``SI_j <- S_i`` for a supplier ``i`` (the inbound time is a supplier's quote),
- ``S_j <- SI_j + T_j`` capped at the node's latest outbound time (pass-through),
- ``S_i <- SI_j`` for a customer ``j`` (quote exactly what a customer waits for),
- ``SI_j <- S_j - T_j`` (the inbound time that makes a fixed quote pass-through),

keeping every value within the node's earliest and latest times. With integer data
these are integers; with real-valued processing times they are the finite set of such
sums. :func:`candidate_service_times` computes this closure by fixed-point iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.gsm_network import TIME_DECIMALS, TIME_TOLERANCE, GsmNetwork, check_feasibility

__all__ = ["ServiceTimeCandidates", "CandidateLimitError", "candidate_service_times"]


class CandidateLimitError(ValueError):
    """The closure of candidate service times grew beyond the allowed size."""


@dataclass(frozen=True)
class ServiceTimeCandidates:
    """Candidate service times per node (sorted arrays) and their bounds.

    Attributes
    ----------
    outbound, inbound : tuple of numpy.ndarray
        Candidate ``S_j`` and ``SI_j`` values of node ``j``.
    earliest_outbound, latest_outbound, earliest_inbound, latest_inbound : numpy.ndarray
        Bounds that every optimal solution can be assumed to respect (the inbound
        time need never exceed the latest quote of the suppliers).
    iterations : int
        Fixed-point rounds until the sets stopped growing.
    """

    outbound: tuple[np.ndarray, ...]
    inbound: tuple[np.ndarray, ...]
    earliest_outbound: np.ndarray
    latest_outbound: np.ndarray
    earliest_inbound: np.ndarray
    latest_inbound: np.ndarray
    iterations: int

    @property
    def total(self) -> int:
        """Total number of candidate values over all nodes."""
        return sum(len(v) for v in self.outbound) + sum(len(v) for v in self.inbound)


def _clip(values: np.ndarray, low: float, high: float) -> np.ndarray:
    values = np.unique(np.round(values, TIME_DECIMALS))
    return values[(values >= low - TIME_TOLERANCE) & (values <= high + TIME_TOLERANCE)]


def _merge(values: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` with the entries of ``new`` it lacks (both sorted), and those entries."""
    position = np.searchsorted(values, new)
    known = position < len(values)
    known[known] = values[position[known]] == new[known]
    fresh = new[~known]
    if not len(fresh):
        return values, fresh
    return np.sort(np.concatenate([values, fresh]), kind="mergesort"), fresh


def _close(
    network: GsmNetwork,
    inbound: list[np.ndarray],
    outbound: list[np.ndarray],
    earliest_in: np.ndarray,
    latest_in: np.ndarray,
    earliest_out: np.ndarray,
    latest_out: np.ndarray,
    max_values: int,
) -> int:
    """Grow ``inbound`` and ``outbound`` in place to their closure; return the rounds.

    Semi-naive: each round applies the four rules only to the values the previous
    round added, so every value travels each rule once (the least fixed point does not
    depend on the order, so this is the same closure as repeating the rules on every
    value until nothing changes).
    """
    n = network.size
    time = network.processing_time
    pending_in, pending_out = list(inbound), list(outbound)
    size = sum(map(len, inbound)) + sum(map(len, outbound))
    rounds = 0
    while any(len(v) for v in pending_in) or any(len(v) for v in pending_out):
        rounds += 1
        reach_in: list[list[np.ndarray]] = [[] for _ in range(n)]
        reach_out: list[list[np.ndarray]] = [[] for _ in range(n)]
        for j in range(n):
            if len(pending_out[j]):
                reach_in[j].append(pending_out[j] - time[j])
                for k in network.successors[j]:
                    reach_in[k].append(pending_out[j])
            if len(pending_in[j]) and not network.must_hold[j]:
                reach_out[j].append(np.minimum(pending_in[j] + time[j], latest_out[j]))
            if len(pending_in[j]):
                for i in network.predecessors[j]:
                    if not network.must_hold[i]:
                        reach_out[i].append(pending_in[j])
        for j in range(n):
            fresh_in = fresh_out = inbound[j][:0]
            if reach_in[j]:
                values = _clip(np.concatenate(reach_in[j]), earliest_in[j], latest_in[j])
                inbound[j], fresh_in = _merge(inbound[j], values)
            if reach_out[j]:
                values = _clip(np.concatenate(reach_out[j]), earliest_out[j], latest_out[j])
                outbound[j], fresh_out = _merge(outbound[j], values)
            pending_in[j], pending_out[j] = fresh_in, fresh_out
            size += len(fresh_in) + len(fresh_out)
        if size > max_values:
            raise CandidateLimitError(
                f"more than {max_values} candidate service times; real-valued processing "
                "times with many distinct fractions make the exact candidate set large "
                "(rounding them to fewer decimals keeps it small)"
            )
    return rounds


def candidate_service_times(
    network: GsmNetwork, *, max_values: int = 5_000_000
) -> ServiceTimeCandidates:
    """Compute the candidate service times of every node.

    Parameters
    ----------
    network : GsmNetwork
    max_values : int
        Stop with :class:`CandidateLimitError` when the candidate sets together hold
        more values than this (only real-valued processing times with many distinct
        fractions get near it).

    Returns
    -------
    ServiceTimeCandidates

    Raises
    ------
    InfeasibleError
        From :func:`toolkit.gsm_network.check_feasibility`.
    CandidateLimitError
        The closure is too large.
    """
    earliest_out, earliest_in = check_feasibility(network)
    n = network.size
    time = network.processing_time
    latest_in = np.empty(n)
    latest_out = np.empty(n)
    for j in range(n):
        latest_in[j] = max(
            [network.external_inbound[j]] + [latest_out[i] for i in network.predecessors[j]]
        )
        latest_in[j] = max(latest_in[j], earliest_in[j])
        latest_out[j] = (
            0.0
            if network.must_hold[j]
            else min(network.max_outbound[j], round(latest_in[j] + time[j], TIME_DECIMALS))
        )
    outbound = [
        _clip(np.array([earliest_out[j], latest_out[j]]), earliest_out[j], latest_out[j])
        for j in range(n)
    ]
    inbound = [
        _clip(np.array([network.external_inbound[j], earliest_in[j]]), earliest_in[j], latest_in[j])
        for j in range(n)
    ]
    iterations = _close(
        network, inbound, outbound, earliest_in, latest_in, earliest_out, latest_out, max_values
    )
    return ServiceTimeCandidates(
        outbound=tuple(outbound),
        inbound=tuple(inbound),
        earliest_outbound=earliest_out,
        latest_outbound=latest_out,
        earliest_inbound=earliest_in,
        latest_inbound=latest_in,
        iterations=iterations,
    )
