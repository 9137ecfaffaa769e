"""`ablate` edits that cannot match (an unknown operation, an edit the genome's
space does not have) are errors with a suggestion, exit 2; an edit that is
valid but finds nothing says so."""
import pytest
from click.testing import CliRunner

from genelang.cli import cli
from genelang.compiler.printer import format_genome
from genelang.errors import GenelangError
from genelang.study.ablate import ablate
from tests.test_ablate import DARTS_LIKE, RNN


def run_ablate(tmp_path, genome, *edits):
    f = tmp_path / f"{genome.name}.gene"
    f.write_text(format_genome(genome))
    return CliRunner().invoke(cli, ["ablate", str(f), *edits, "--out", str(tmp_path / "v")])


@pytest.mark.parametrize("genome, edit, said", [
    (DARTS_LIKE, "each-node:foo", "unknown operation 'foo' in the conv space"),
    (DARTS_LIKE, "replace:sep3x3=sep3x4", "unknown operation 'sep3x4' in the conv space"),
    (DARTS_LIKE, "replace:sep_cnv_3x3=pw", "did you mean 'sep_conv_3x3'?"),
    (DARTS_LIKE, "one-activation:relu", "the conv space has no activations"),
    (RNN, "swap-cells", "it has no normal and reduction cells"),
    (RNN, "one-activation:rellu", "did you mean 'relu'?"),
    (RNN, "each-node:x", "unknown operation 'x' in the rnn space"),
    (DARTS_LIKE, "swap-cell", "did you mean 'swap-cells'?"),
])
def test_an_edit_that_cannot_match_is_a_user_error(tmp_path, genome, edit, said):
    res = run_ablate(tmp_path, genome, edit)
    assert res.exit_code == 2, res.output
    assert said in res.output and "Traceback" not in res.output
    assert "variant(s) written" not in res.output
    assert not (tmp_path / "v").exists()   # nothing is written before every edit is understood


def test_a_bad_edit_among_good_ones_stops_before_writing(tmp_path):
    with pytest.raises(GenelangError, match="sep3x4"):
        ablate(DARTS_LIKE, ["drop-edges", "replace:sep3x3=sep3x4"], tmp_path / "v")
    assert not (tmp_path / "v").exists()


def test_a_valid_edit_that_finds_nothing_says_so(tmp_path):
    res = run_ablate(tmp_path, DARTS_LIKE, "replace:max_pool_3x3=pw", "drop-edges")
    assert res.exit_code == 0, res.output
    assert "replace:max_pool_3x3=pw matches nothing in genome d" in res.output
    assert "4 variant(s) written" in res.output
