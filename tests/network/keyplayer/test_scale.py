from avellino.network.keyplayer.io import read_network
from avellino.network.keyplayer.scale import key_players_scalable
from avellino.network.protect import Protection


def test_scalable_key_players_hit_the_bridges(fixtures):
    g = read_network(fixtures / "network" / "cells.txt")
    targets, lcc = key_players_scalable(g, 3)
    assert len(targets) == 3 and lcc < g.vcount() - 3


def test_scalable_key_players_never_pick_a_protected_vertex(fixtures):
    g = read_network(fixtures / "network" / "cells.txt")
    first, _ = key_players_scalable(g, 3)
    protection = Protection.of(first[:1], "victim")
    again, _ = key_players_scalable(g, 3, protection)
    assert len(again) == 3 and first[0] not in again
