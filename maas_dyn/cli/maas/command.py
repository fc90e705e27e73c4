"""Running ``maas-dyn PROFILE HANDLER ACTION [PATH-PARAM...] [key=value ...]``.

Parse the options, build the profile's client (from its cached description, no
network), resolve handler, action, path parameters and fields against that
description, then send, print, and with ``--wait`` poll until the machine settles.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from maas_dyn.cli._common.exits import ExitCode, UsageError
from maas_dyn.cli._common.profiles import ENV_PROFILE
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.maas.parser import (
    Options,
    Target,
    find_action,
    find_handler,
    parse_fields,
    parse_options,
    require_path_args,
    undocumented_fields,
)
from maas_dyn.cli.maas.session import open_session
from maas_dyn.cli.maas.special import perform
from maas_dyn.maas.client import Client, DescriptionChangedWarning
from maas_dyn.maas.openapi import type_problem
from maas_dyn.maas.response import Response

__all__ = ["run"]


def _help(name: str, url: str, client: Client, words: tuple[str, ...]) -> str:
    from maas_dyn.cli.maas import helptext as texts

    if not words:
        return texts.profile_help(name, url, client.description)
    handler = find_handler(client.description, words[0])
    if len(words) == 1:
        return texts.handler_help(name, handler)
    return texts.action_help(name, find_action(handler, words[1:]))


def _wait(client: Client, target: Target, options: Options, runtime: Runtime,
          accepted: Response) -> tuple[Response, ExitCode]:
    from maas_dyn.cli.maas.wait import Progress, wait_until_settled

    handler, system_id = target.handler, target.path_args[0]
    progress = Progress(runtime.stderr, f"{handler.cli_name} {system_id}")
    try:
        outcome = wait_until_settled(client, handler, target.path_args,
                                     timeout=options.timeout, interval=options.interval,
                                     progress=progress)
    except KeyboardInterrupt:
        # The action was accepted before the wait began; say so, or the user may send
        # it again thinking nothing happened.
        status = progress.last or str(accepted.data.get("status_name", "")
                                      if isinstance(accepted.data, Mapping) else "")
        runtime.note(f"interrupted: {target.action.cli_name} was accepted "
                     f"(HTTP {accepted.status}); {handler.cli_name} {system_id} was last seen "
                     f"{status!r} and the region goes on with it")
        return accepted, ExitCode.INTERRUPTED
    if outcome.reason == "failure":
        message = outcome.response.data.get("status_message") or "no status message"
        runtime.note(f"{handler.cli_name} {system_id} ended in {outcome.status!r}: {message}")
        return outcome.response, ExitCode.WAIT_FAILED
    if outcome.reason == "timeout":
        runtime.note(f"gave up after {outcome.elapsed:.0f}s: {handler.cli_name} {system_id} "
                     f"is still {outcome.status!r} (raise --timeout to wait longer)")
        return outcome.response, ExitCode.WAIT_TIMEOUT
    return outcome.response, ExitCode.OK


def _check_documented(target: Target, fields: Sequence[tuple[str, object]], *, strict: bool,
                      runtime: Runtime) -> None:
    # The region ignores a parameter it does not know: `distro_seris=jammy` would deploy
    # the default release. Say so before sending, and refuse with --strict.
    # A value of another type than the region's openapi.yaml gives follows the same rule.
    if target.action.raw_body:  # a raw body's field name is not sent
        return
    undocumented = undocumented_fields(target, fields)
    where = f"{target.handler.cli_name} {target.action.cli_name}"
    lines = [f"{name!r} is not documented for {where}"
             + (f"; did you mean {' or '.join(hint)}?" if hint else "")
             for name, hint in undocumented.items()]
    overlay = target.handler.action_overlay(target.action)
    if overlay is not None:
        lines += [f"{name}: {problem} ({overlay.types[name]} in the server's OpenAPI document)"
                  for name, value in fields
                  if (problem := type_problem(value, overlay.types.get(name, "")))]
    if not lines:
        return
    if strict:
        raise UsageError("; ".join(lines) + " (--strict: nothing was sent)")
    for line in lines:
        runtime.note(f"warning: {line} (sent as given; --strict refuses)")


def run(name: str, argv: list[str], runtime: Runtime) -> int:
    """Run one profile command.

    Args:
        name: The profile word (a stored profile, or ``env``).
        argv: The arguments after it.
        runtime: Streams, environment, store and transport.

    Returns:
        The exit code.
    """
    if argv[:1] == ["health"]:  # no MAAS handler is called health
        from maas_dyn.cli._common.health import maas_health

        return maas_health(name, argv[1:], runtime)
    options = parse_options(f"maas-dyn {name}", argv)
    profile = runtime.store.resolve(name, runtime.environ)
    session = open_session(profile, runtime, insecure=options.insecure)
    if profile.description is None and profile.name != ENV_PROFILE:
        session.fetch()  # a profile imported without one; it is saved below
    client = session.client
    if options.help:
        runtime.stdout.write(_help(name, profile.url, client, options.words))
        return ExitCode.OK
    if not options.words:
        raise UsageError(f"missing HANDLER after the profile; `maas-dyn {name} -h` lists them")
    if options.all_matching:
        from maas_dyn.cli.maas.bulk import run_all_matching

        return run_all_matching(name, session, options, runtime)
    if options.dry_run:
        raise UsageError("--dry-run goes with --all-matching (and the workflow commands); "
                         "a single action is shown by `-h` and sent by running it")
    target = find_action(find_handler(client.description, options.words[0]),
                         options.words[1:], options.forced)
    require_path_args(name, target)
    fields = parse_fields(target)
    _check_documented(target, fields, strict=options.strict, runtime=runtime)
    if options.wait:
        from maas_dyn.cli.maas.wait import waitable

        if not waitable(target.handler):
            raise UsageError(f"--wait polls machines and other nodes; {target.handler.cli_name!r}"
                             " has no system_id to poll")
    if options.debug:
        from maas_dyn.cli.maas.debug import DebugPrinter

        key = profile.api_key or ""
        DebugPrinter(runtime.stderr, signed=bool(key),
                     secrets=(key, *key.split(":"))).attach(client)
    with warnings.catch_warnings():
        # The client refreshes itself on a new API hash; the profile is updated below.
        warnings.simplefilter("ignore", DescriptionChangedWarning)
        response = perform(client, target.handler, target.action, target.path_args, fields)
        code = ExitCode.OK
        if options.wait:
            response, code = _wait(client, target, options, runtime, response)
    if session.save_new_description(runtime.store):
        runtime.note(f"profile {name!r} now holds the server's new API description")

    from maas_dyn.cli._common.output import write_response

    write_response(response, options.output, runtime.stdout)
    return code
