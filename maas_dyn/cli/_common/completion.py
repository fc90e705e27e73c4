"""Shell completion of both CLIs: ``completion bash|zsh|fish`` and the hidden helper.

The scripts pass the words typed so far to ``PROG __complete WORD... CURRENT``, which
prints one candidate per line. ``maas-dyn``: commands and profiles, then handlers (and
``health``), actions, options and documented ``key=`` names from the profile's cached
description; ``workflow PROFILE NAME``, ``diff``/``docs`` sides, ``sim`` dialects.
``truenas-dyn``: commands and profiles, then the profile commands and namespaces,
methods, options, and the documented choices (``enum``) of a method's arguments, from
the index stored beside the profile. The helper never touches the network and never
fails loudly: no candidates is the worst case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from maas_dyn._shipped import Dialect, shipped_releases
from maas_dyn.cli._common.exits import CLIError, UsageError, unknown
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.maas.parser import FORMATS, OPTIONS, documented_params
from maas_dyn.errors import DescriptionError
from maas_dyn.maas.describe import Description
from maas_dyn.maas.docparse import parse_action_doc

__all__ = ["SCRIPTS", "candidates", "complete_command", "completion_command", "script",
           "truenas_candidates"]

# PROG and FUNC are replaced by the program's name and a shell-safe form of it.
_BASH = r"""# bash completion for PROG; load it with:  source <(PROG completion bash)
_FUNC_complete() {
    local IFS=$'\n'
    COMPREPLY=($(PROG __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -o default -F _FUNC_complete PROG
"""

_ZSH = r"""#compdef PROG
# zsh completion for PROG; load it with:  source <(PROG completion zsh)
_FUNC() {
    local -a found keys words_
    found=(${(f)"$(PROG __complete "${(@)words[2,CURRENT]}" 2>/dev/null)"})
    keys=(${(M)found:#*=})
    words_=(${found:#*=})
    (( ${#keys} )) && compadd -S '' -- "${keys[@]}"
    (( ${#words_} )) && compadd -- "${words_[@]}"
    (( ${#found} )) || _files
}
compdef _FUNC PROG
"""

_FISH = r"""# fish completion for PROG; load it with:  PROG completion fish | source
function __FUNC_complete
    set -l words (commandline -opc)
    PROG __complete $words[2..-1] (commandline -ct) 2>/dev/null
end
complete -c PROG -f -a '(__FUNC_complete)'
"""

_TEMPLATES: Mapping[str, str] = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def script(shell: str, prog: str) -> str:
    """Return the completion script of a shell for a program.

    Args:
        shell: ``bash``, ``zsh`` or ``fish``.
        prog: ``maas-dyn`` or ``truenas-dyn``.

    Returns:
        The script, to be sourced by the shell.
    """
    return _TEMPLATES[shell].replace("FUNC", prog.replace("-", "_")).replace("PROG", prog)


SCRIPTS = {shell: script(shell, "maas-dyn") for shell in _TEMPLATES}

_VALUE_OPTIONS = {flag for o in OPTIONS if o.metavar for flag in o.flags}
_OUTPUT_FLAGS = ("-o", "--output")
_PROFILE_COMMANDS = frozenset({"logout", "refresh"})
_SIM_DIALECTS = ("maas", "truenas")


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
        return ["health", *(h.cli_name for h in description.handlers.values())]
    handler = description.handler(words[0])
    if handler is None:
        return []
    if len(words) == 1:
        return [a.cli_name for a in handler.actions.values()]
    action = handler.action(words[1])
    return [] if action is None else [f"{p}=" for p in documented_params(handler, action)]


def _value_choices(runtime: Runtime, positional: list[str], current: str) -> list[str]:
    # `maas-dyn PROFILE HANDLER ACTION ... key=<TAB>`: the values the doc lists for key.
    if len(positional) < 3 or positional[0] in _PROFILE_COMMANDS:
        return []
    description = _description(runtime, positional[0])
    handler = description.handler(positional[1]) if description is not None else None
    action = handler.action(positional[2]) if handler is not None else None
    if action is None:
        return []
    key = current.partition("=")[0]
    param = parse_action_doc(action.doc).params.get(key)
    return [f"{key}={choice}" for choice in param.choices] if param is not None else []


def _sides(dialect: Dialect) -> Callable[[Runtime, list[str]], list[str]]:
    # diff OLD NEW and docs WHAT: a shipped release or a profile (files: the shell's).
    def words(runtime: Runtime, given: list[str]) -> list[str]:
        return [*shipped_releases(dialect), *runtime.store.names()] if len(given) < 2 else []
    return words


def _workflow_words(runtime: Runtime, given: list[str]) -> list[str]:
    if not given:
        return runtime.store.names()
    from maas_dyn.cli.maas.workflow import WORKFLOWS

    return list(WORKFLOWS) if len(given) == 1 else []


def _shells(runtime: Runtime, given: list[str]) -> list[str]:
    return [] if given else list(_TEMPLATES)


# command word -> candidates for the words after it (those typed so far given).
_MAAS_COMMAND_WORDS: Mapping[str, Callable[[Runtime, list[str]], list[str]]] = {
    "completion": _shells,
    "workflow": _workflow_words,
    "diff": _sides("maas"),
    "docs": _sides("maas"),
    "sim": lambda runtime, given: [] if given else list(_SIM_DIALECTS),
}


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
    positional, previous = _positionals(before)
    if "=" in current or (before and before[-1].endswith("=")):
        # A value: the documented choices of a key=, else the shell's file completion.
        found = _value_choices(runtime, positional, current) if "=" in current else []
        return [c for c in found if c.startswith(current)]
    if not positional:
        found = [n for n, c in COMMANDS.items() if not c.hidden] + runtime.store.names()
    elif positional[0] in _PROFILE_COMMANDS:
        found = runtime.store.names()
    elif positional[0] in _MAAS_COMMAND_WORDS:
        found = _MAAS_COMMAND_WORDS[positional[0]](runtime, positional[1:])
    elif positional[0] in COMMANDS:
        found = []
    else:
        found = _profile_words(runtime, positional[0], positional[1:], current, previous)
    return [c for c in found if c.startswith(current)]


# -- truenas-dyn ---------------------------------------------------------------------------

_TRUENAS_COMMAND_WORDS: Mapping[str, Callable[[Runtime, list[str]], list[str]]] = {
    "completion": _shells,
    "logout": lambda runtime, given: [] if given else runtime.store.names(),
    "diff": _sides("truenas"),
    "docs": _sides("truenas"),
}


def _truenas_profile_words(runtime: Runtime, profile: str, words: list[str], current: str,
                           previous: str) -> list[str]:
    from maas_dyn.cli.truenas import PROFILE_COMMANDS
    from maas_dyn.cli.truenas.calls import OPTIONS as CALL_OPTIONS
    from maas_dyn.cli.truenas.catalog import Catalog
    from maas_dyn.cli.truenas.output import FORMATS as TRUENAS_FORMATS

    if previous in ("-o", "--output"):
        return list(TRUENAS_FORMATS)
    if current.startswith("-"):
        return [flag for o in CALL_OPTIONS.values() for flag in o.flags]
    if profile not in runtime.store.names():
        return []
    index = runtime.store.index(profile)
    catalog = Catalog.from_index(index) if index is not None else Catalog({})
    if not words:
        return [*PROFILE_COMMANDS, *catalog.children()]
    if words[0] == "call":
        return catalog.names if len(words) == 1 else catalog.choices(words[1], len(words) - 2)
    if words[0] in PROFILE_COMMANDS:
        return []
    children = catalog.children(".".join(words))
    if children:
        return children  # a namespace: its next words
    try:
        method, rest = catalog.resolve(words)
    except UsageError:
        return []
    return catalog.choices(method, len(rest)) if method in catalog else []


def truenas_candidates(runtime: Runtime, words: Sequence[str]) -> list[str]:
    """Return the ``truenas-dyn`` completions of the last word.

    Args:
        runtime: Supplies the ``truenas-dyn`` profile store.
        words: The words after ``truenas-dyn``; the last one is being typed.

    Returns:
        Matching candidates, in a stable order.
    """
    from maas_dyn.cli.truenas import COMMANDS
    from maas_dyn.cli.truenas.calls import OPTIONS as CALL_OPTIONS

    *before, current = words or [""]
    values = {flag for o in CALL_OPTIONS.values() if o.metavar for flag in o.flags}
    found_words: list[str] = []
    previous = ""
    for word in before:
        if previous not in values and not word.startswith("-"):
            found_words.append(word)
        previous = word
    if not found_words:
        found = [n for n, c in COMMANDS.items() if not c.hidden] + runtime.store.names()
    elif found_words[0] in _TRUENAS_COMMAND_WORDS:
        found = _TRUENAS_COMMAND_WORDS[found_words[0]](runtime, found_words[1:])
    elif found_words[0] in COMMANDS:
        found = []
    else:
        found = _truenas_profile_words(runtime, found_words[0], found_words[1:], current,
                                       previous)
    return [c for c in found if c.startswith(current)]


# dialect -> its candidates function
_CANDIDATES: Mapping[str, Callable[[Runtime, Sequence[str]], list[str]]] = {
    "maas": candidates, "truenas": truenas_candidates}


def complete_command(argv: list[str], runtime: Runtime) -> int:
    """Run ``PROG __complete WORD... CURRENT``: print candidates, one per line."""
    try:
        found = _CANDIDATES[runtime.store.dialect.name](runtime, argv)
    except (CLIError, DescriptionError, OSError, ValueError):
        found = []  # completion never fails loudly
    for candidate in found:
        print(candidate, file=runtime.stdout)
    return 0


def completion_command(argv: list[str], runtime: Runtime) -> int:
    """Run ``PROG completion bash|zsh|fish``: print the shell's completion script."""
    shells = ", ".join(_TEMPLATES)
    if len(argv) == 1 and argv[0] not in _TEMPLATES:
        raise unknown("shell", argv[0], _TEMPLATES, f"supported: {shells}")
    if len(argv) != 1:
        raise UsageError(f"usage: {runtime.prog} completion bash|zsh|fish  (then `source "
                         f"<({runtime.prog} completion bash)` in your shell's rc file, or "
                         f"`{runtime.prog} completion fish | source` in fish)")
    runtime.stdout.write(script(argv[0], runtime.prog))
    return 0
