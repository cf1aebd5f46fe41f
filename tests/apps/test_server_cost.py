"""The server cost model: CPU time on a pool of cores, fsyncs on one disk.

A command takes a core for its CPU time (divided by ``cpu_speed``), queueing when every
core is busy, then the disk for each of its fsyncs, one at a time: the disk is one
resource, as a single spindle or SSD queue. So N commands that arrive together on one
core finish one CPU time apart; on N cores together; and their syncs still queue.
"""

from __future__ import annotations

import pytest
import simpy

from netsim.apps.server_cost import CommandCost, CostModel, ServerCost, measured

MODEL = CostModel(
    protocol="test",
    commands={"NOOP": CommandCost(1e-3, 0), "APPEND": CommandCost(2e-3, 2)},
    per_octet_s=1e-6,
    default=CommandCost(5e-3, 0),
)


def finish_times(cores: int, verbs: list[str], fsync: float = 0.0, speed: float = 1.0):
    env = simpy.Environment()
    server = ServerCost(env, cores=cores, cpu_speed=speed, fsync=fsync)
    done: list[float] = []

    def command(verb: str):
        yield from server.serve(MODEL, verb, 100)
        done.append(env.now)

    for verb in verbs:
        env.process(command(verb))
    env.run()
    return done, server


def test_commands_queue_for_a_single_core():
    done, server = finish_times(1, ["NOOP"] * 3)
    each = 1e-3 + 100 * 1e-6
    assert done == pytest.approx([each, 2 * each, 3 * each], abs=1e-12)
    assert server.cpu_busy == pytest.approx(3 * each)


def test_enough_cores_run_them_together_and_speed_divides_the_cpu_time():
    done, _ = finish_times(3, ["NOOP"] * 3, speed=2.0)
    assert done == pytest.approx([(1e-3 + 1e-4) / 2] * 3, abs=1e-12)


def test_fsyncs_queue_on_the_one_disk_after_the_cpu():
    done, server = finish_times(2, ["APPEND", "APPEND"], fsync=4e-3)
    cpu = 2e-3 + 1e-4
    # Both finish their CPU at once; then their four syncs take turns on the disk, first
    # come first served: A1, B1, A2, B2.
    assert done == pytest.approx([cpu + 3 * 4e-3, cpu + 4 * 4e-3], abs=1e-12)
    assert server.disk_busy == pytest.approx(16e-3)


def test_an_unlisted_command_costs_the_default_and_the_measured_tables_exist():
    assert MODEL.cost("XYZZY") == MODEL.default
    for protocol, verb in (("imap", "NOOP"), ("smtp", "MESSAGE"), ("pop3", "RETR")):
        model = measured(protocol)
        assert verb in model.commands and model.cost(verb).cpu_s > 0
    assert measured("smtp").cost("MESSAGE").fsyncs >= 1  # the message is made durable
    with pytest.raises(KeyError):
        measured("nntp")
