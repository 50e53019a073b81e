"""README and ``--help`` agree: every option README names for a command is in that command's help."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from gcl_bench.cli import COMMANDS, cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")
GROUPS = {"cache": ("info", "clear"), "download": ()}


@cache
def help_options(command: tuple[str, ...]) -> frozenset[str]:
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return frozenset(OPTION.findall(result.output)) | {"--help", "-h"}


def useful_options() -> list[tuple[str, str]]:
    """(command, option) for each option of each README paragraph "Useful options of `gcl-bench CMD`"."""
    pairs = []
    for match in re.finditer(r"Useful options of `gcl-bench (\w+)`:(.*?)(?:\n\n|$)", README, flags=re.S):
        pairs += [(match.group(1), option) for option in OPTION.findall(match.group(2))]
    return pairs


def example_command_lines() -> list[tuple[tuple[str, ...], str]]:
    """((command words), line) for every ``gcl-bench ...`` line of README's bash blocks."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = line.split("#")[0].split()
            if "gcl-bench" not in words:
                continue
            rest = words[words.index("gcl-bench") + 1:]
            if not rest or rest[0] not in COMMANDS:
                continue
            command = (rest[0],) + ((rest[1],) if rest[1:] and rest[1] in GROUPS.get(rest[0], ()) else ())
            lines.append((command, " ".join(rest)))
    return lines


def test_readme_lists_useful_options_of_run_and_evaluate() -> None:
    commands = {command for command, _ in useful_options()}
    assert {"run", "evaluate"} <= commands
    assert len(useful_options()) >= 20


@pytest.mark.parametrize(("command", "option"), useful_options())
def test_useful_options_exist_in_help(command: str, option: str) -> None:
    assert option in help_options((command,)), f"README names {option} for gcl-bench {command}, --help does not"


@pytest.mark.parametrize(("command", "line"), example_command_lines())
def test_example_command_lines_use_real_options(command: tuple[str, ...], line: str) -> None:
    unknown = set(OPTION.findall(line)) - help_options(command)
    assert not unknown, f"README line `gcl-bench {line}` uses {sorted(unknown)}, not in --help"


def test_a_wrong_option_would_be_caught() -> None:
    assert "--no-such-flag" not in help_options(("run",))
    assert "--similarity" in help_options(("run",))
