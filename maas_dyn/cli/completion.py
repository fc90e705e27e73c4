"""Shell completion: ``maas-dyn completion bash|zsh`` and the hidden helper.

The scripts pass the words typed so far to ``maas-dyn __complete WORD... CURRENT``,
which prints one candidate per line: commands and profiles, then handlers, actions,
options and documented ``key=`` names from the profile's cached description. The
helper never touches the network and never fails loudly: no candidates is the worst
case.
"""

from __future__ import annotations

from collections.abc import Sequence

from maas_dyn.cli.exits import CLIError, UsageError, unknown
from maas_dyn.cli.parser import FORMATS, OPTIONS, documented_params
from maas_dyn.cli.runtime import Runtime
from maas_dyn.errors import DescriptionError
from maas_dyn.maas.describe import Description

__all__ = ["SCRIPTS", "candidates", "complete_command", "completion_command"]

BASH = r"""# bash completion for maas-dyn; load it with:  source <(maas-dyn completion bash)
_maas_dyn_complete() {
    local IFS=$'\n'
    COMPREPLY=($(maas-dyn __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -o default -F _maas_dyn_complete maas-dyn
"""

ZSH = r"""#compdef maas-dyn
# zsh completion for maas-dyn; load it with:  source <(maas-dyn completion zsh)
_maas_dyn() {
    local -a found keys words_
    found=(${(f)"$(maas-dyn __complete "${(@)words[2,CURRENT]}" 2>/dev/null)"})
    keys=(${(M)found:#*=})
    words_=(${found:#*=})
    (( ${#keys} )) && compadd -S '' -- "${keys[@]}"
    (( ${#words_} )) && compadd -- "${words_[@]}"
    (( ${#found} )) || _files
}
compdef _maas_dyn maas-dyn
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH}

_VALUE_OPTIONS = {flag for o in OPTIONS if o.metavar for flag in o.flags}
_OUTPUT_FLAGS = ("-o", "--output")
_PROFILE_COMMANDS = frozenset({"logout", "refresh"})


def _positionals(words: Sequence[str]) -> tuple[list[str], str]:
    # Options and their values are not positions; "previous" tells what the
    # current word is the value of.
    found: list[str] = []
    previous = ""
    for word in words:
        if previous not in _VALUE_OPTIONS and not word.startswith("-"):
            found.append(word)
        previous = word
    return found, previous


def _description(runtime: Runtime, profile: str) -> Description | None:
    try:
        document = runtime.store.load(profile).description
        return Description(document) if document is not None else None
    except (CLIError, DescriptionError):
        return None


def _profile_words(runtime: Runtime, profile: str, words: list[str], current: str,
                   previous: str) -> list[str]:
    if previous in _OUTPUT_FLAGS:
        return list(FORMATS)
    if current.startswith("-"):
        return [flag for o in OPTIONS for flag in o.flags]
    description = _description(runtime, profile)
    if description is None:
        return []
    if not words:
        return [h.cli_name for h in description.handlers.values()]
    handler = description.handler(words[0])
    if handler is None:
        return []
    if len(words) == 1:
        return [a.cli_name for a in handler.actions.values()]
    action = handler.action(words[1])
    return [] if action is None else [f"{p}=" for p in documented_params(handler, action)]


def candidates(runtime: Runtime, words: Sequence[str]) -> list[str]:
    """Return the completions of the last word.

    Args:
        runtime: Supplies the profile store.
        words: The words after ``maas-dyn``; the last one is being typed (maybe ``""``).

    Returns:
        Matching candidates, in a stable order.
    """
    from maas_dyn.cli.maas import COMMANDS

    *before, current = words or [""]
    if "=" in current or (before and before[-1].endswith("=")):
        return []  # a value: left to the shell's file completion
    positional, previous = _positionals(before)
    if not positional:
        found = [n for n, c in COMMANDS.items() if not c.hidden] + runtime.store.names()
    elif positional[0] in _PROFILE_COMMANDS:
        found = runtime.store.names()
    elif positional[0] == "completion":
        found = [] if len(positional) > 1 else list(SCRIPTS)
    elif positional[0] in COMMANDS:
        found = []
    else:
        found = _profile_words(runtime, positional[0], positional[1:], current, previous)
    return [c for c in found if c.startswith(current)]


def complete_command(argv: list[str], runtime: Runtime) -> int:
    """Run ``maas-dyn __complete WORD... CURRENT``: print candidates, one per line."""
    for candidate in candidates(runtime, argv):
        print(candidate, file=runtime.stdout)
    return 0


def completion_command(argv: list[str], runtime: Runtime) -> int:
    """Run ``maas-dyn completion bash|zsh``: print the shell's completion script."""
    if len(argv) == 1 and argv[0] not in SCRIPTS:
        raise unknown("shell", argv[0], SCRIPTS, "supported: bash, zsh")
    if len(argv) != 1:
        raise UsageError("usage: maas-dyn completion bash|zsh  (then `source <(maas-dyn "
                         "completion bash)` in your shell's rc file)")
    runtime.stdout.write(SCRIPTS[argv[0]])
    return 0
