"""Render ``MODELLED.md``: which methods of each shipped release the simulator models.

Regenerate after adding or removing a handler::

    python -m maas_dyn.sim.truenas.modelled
"""

from __future__ import annotations

import sys
from pathlib import Path

from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.services import HANDLERS
from maas_dyn.sim.truenas.services.generic import generic_handlers

__all__ = ["MODELLED_PATH", "SOURCES", "WIRE_SOURCES", "modelled", "render"]

MODELLED_PATH = Path(__file__).with_name("MODELLED.md")

#: Hand-written: which real source each modelled behaviour follows (kept in this module
#: so that MODELLED.md stays generated).
SOURCES = """\
## Behaviours and the sources they follow

### SCRAM logins (`auth.login_ex` mechanism `SCRAM`, 26.0+)

Followed: truenas/middleware master (66d9e1b9c3) and truenas/api_client master (a0c890a).

- Message shapes: `src/middlewared/middlewared/api/v26_0_0/auth.py` `AuthSCRAM`
  (`mechanism`, `scram_type` `CLIENT_FIRST_MESSAGE`/`CLIENT_FINAL_MESSAGE`, `rfc_str`) and
  `AuthRespScram` (`response_type` `SCRAM_RESPONSE`, `scram_type`
  `SERVER_FIRST_RESPONSE`/`SERVER_FINAL_RESPONSE`, `rfc_str`, `user_info` null on the
  first answer, the user on the final one).
- Flow: `plugins/auth.py` `AuthService.login_ex` (`case AuthMech.SCRAM`) and
  `plugins/auth_/login_ex_impl.py` `login_ex_scram`: a client-final message without a
  pending first one is a CallError "SCRAM authentication is not in progress"; any
  failure answers `AUTH_ERR` (after the usual delay); another mechanism abandons the
  conversation (`check_auth_mechanism`'s `next_mech`).
- `utils/account/authenticator.py` `ScramPamAuthenticator`: the user name carries the
  API key id (`n=user:<id>`); a `p=` channel-binding header is refused unless the
  connection came over TLS.
- Key material: `plugins/api_key/crud.py` (`salt`, `iterations`, `stored_key`,
  `server_key` per key) and `utils/crypto.py` `generate_api_key_auth_data` (16-byte salt,
  500000 rounds of PBKDF2-SHA512 over the part of the key after `<id>-`); the simulator
  derives them on first use and again after a reset (`scram_iterations=` /
  `--scram-iterations` lowers the count for tests).
- Wire details: api_client `truenas_api_client/py_scram/` (`client_first.py`,
  `server_first.py`, `client_final.py`: nonces are base64 of 32 random bytes, the
  combined nonce is base64 of client-nonce bytes + server-nonce bytes, a 32- or 64-byte
  nonce is accepted) and `py_scram/channel_binding.py` (RFC 5929 `tls-server-end-point`,
  MD5/SHA-1 promoted to SHA-256, EdDSA undefined).
- Channel binding over TLS (`tls_cert=` / `--tls-cert`): the expected `c=` is
  base64(GS2 header + hash of the simulator's own certificate). A `y` header over TLS is
  refused (RFC 5802 section 6; the middleware leaves this to its C library).
- Not modelled: password SCRAM (key id 0 answers `AUTH_ERR`; 26.0 limits SCRAM to API
  keys). Over TLS, uploads are not intercepted (a TLS socket cannot be peeked); the real
  box terminates TLS in nginx, the simulator in its own server.

### `auth.mechanism_choices` and restricted mechanisms

- `plugins/auth.py` `mechanism_choices`: the mechanisms of the current authenticator
  level; `utils/auth.py` `AA_LEVEL1` (`API_KEY_PLAIN`, `TOKEN_PLAIN`, `PASSWORD_PLAIN`,
  `SCRAM`), with `SCRAM` only where the release's description knows it.
- `check_auth_mechanism`: a mechanism the level does not allow is a CallError
  "<MECH>: mechanism is not supported at current authenticator level." (`EOPNOTSUPP`).
- `auth_mechanisms=` / `--auth-mechanisms` restricts the list to model a hardened box
  (e.g. `SCRAM` only). The real levels are fixed sets (level 2 allows only
  `PASSWORD_PLAIN` with a second factor); a SCRAM-only box is a configuration for
  testing clients' behaviour, not one of them.
"""


#: Hand-written: the wire behaviours of issue 25 and the sources they follow.
WIRE_SOURCES = """\
### Wire behaviours (issue 25)

Followed: truenas/middleware at TS-25.10.0 (and TS-25.04.2.6, TS-25.10.6,
TS-26.0.0-BETA.3 where named), truenas/api_client master (a0c890a).

- Jobs (`src/middlewared/middlewared/job.py`, `Job.run`, `__run_body`, `set_progress`):
  ADDED when queued (WAITING), CHANGED for RUNNING and for each progress change, a
  CHANGED with `SUCCESS` and percent 100 when the body returns without reaching 100,
  then `_finished` wakes a waiting caller (`api/base/server/method.py`: with
  `legacy_jobs` off the call answers the job's result), and the final CHANGED goes out
  after it. Every job spends `jobs.MIN_JOB_SECONDS` simulated seconds at least (half of
  them WAITING): clients that attach their job callback once they know the job id
  (`truenas_api_client.Job`, which learns it from the ADDED event's `message_ids`)
  must see later events. `core.bulk` and the official client's callback depend on it.
- `pool.scrub.scrub(name, action)` (`plugins/pool_/scrub.py`): a job; START follows the
  scrub to "Scrub finished", STOP and PAUSE end it ("Scrub paused").
- Legacy `/websocket` (`apps/websocket_app.py` `on_message`): `connect`, `method`,
  `sub`, `unsub` only; a `ping` (like any other `msg`) gets no answer.
- ejson both ways (`utils/limits.py` parses every frame with
  `truenas_api_client/ejson.py`): `$date`, `$time`, `$set`, `$type: date`,
  `$ipv4_interface`, `$ipv6_interface` in params arrive as Python values; replies encode
  datetimes in whole seconds as that encoder does. The codec is
  `maas_dyn/truenas/wire.py`, shared by client and simulator; the client keeps
  milliseconds when it encodes, on purpose (the middleware's decoder reads them).
- API versions (`main.py` `_load_api_versions`, `_create_apis`, `_add_api_route`,
  `api_versions_handler`): one `/api/<version>` route per folder of
  `middlewared/api/` (`catalog.API_VERSIONS`, per release, from the newest tag of its
  line), `/api/current` = the newest; `GET /api/versions` lists all but `v24.10`. All
  routes serve the one shipped description (the simulator has no per-version models).
- `filesystem.get` of a missing file (`plugins/filesystem.py` `get`):
  `CallError(f"{path} is not a file")`, errno EFAULT, as the job's error.
- `config.save` (`plugins/config.py` `save`, `save_db_only`, `save_tar_file`): the
  SQLite database itself with no option set, else a tar of `freenas-v1.db` plus
  `pwenc_secret` (`secretseed`) and the authorized_keys files (`root_authorized_keys`);
  `pool_keys` is ignored.
- Malformed requests (`api/base/server/ws_handler/rpc.py` `validate_message`,
  `process_message`): undecodable text gets -32700 with `id: null`; an invalid
  request gets -32600 echoing the `id` it carries, and nothing without one; a call
  without `id` runs without a reply. (Issue 25 expected `id: null` for invalid
  requests and a reply without `id`; the middleware's source does neither, and the
  simulator follows the source.)
- Credentials: the seeded API key's secret and the OTP secret derive from `seed`, so the
  same seed gives the same credentials on every start.
- Generic stores (`services/generic.py`; `service/crud_service.py` `CRUDService`,
  `service/config_service.py` `ConfigService`): create validates against `accepts` with
  its defaults and stores a record shaped like `get_instance`'s return schema; query
  filters and options as `filter_list`; get_instance of a missing id is
  `InstanceNotFound` ("<Verbose Name> <id> does not exist"); update changes the fields
  sent; ADDED/CHANGED/REMOVED on `<namespace>.query`; config services answer one object
  shaped like `config`'s return schema.
"""


# Modelled methods per shipped release before issue 25 added generic stores
# (HANDLERS alone, 2026-12-08), kept to show what the generic stores added.
BEFORE_GENERIC = {"25.04": (134, 771), "25.10": (137, 769), "26.0": (133, 815)}


def modelled(release: str) -> tuple[list[str], list[str], int]:
    """List the methods of a release the simulator answers.

    Args:
        release: A shipped release.

    Returns:
        ``(hand-written models, generic stores, number of methods in the release)``,
        each list sorted.
    """
    catalog = Catalog(release)
    names = set(catalog.methods)
    generic = set(generic_handlers(catalog, HANDLERS)) & names
    return sorted(names & set(HANDLERS)), sorted(generic), len(names)


def render() -> str:
    """Render the document.

    Returns:
        The Markdown text.
    """
    releases = Catalog.releases()
    lines = [
        "# Methods modelled by the TrueNAS simulator",
        "",
        "Generated by `python -m maas_dyn.sim.truenas.modelled`; do not edit by hand.",
        "A method is answered by a hand-written model (`maas_dyn.sim.truenas.services."
        "HANDLERS`) or,",
        "for CRUD and config services no model covers, by a generic store built from the",
        "description (`services/generic.py`). Every other method answers a CallError",
        "(`ENOTSUP`, errno 95, \"<method> is not modelled by the maas_dyn simulator\").",
        "At run time: `TrueNASSimulator.modelled_methods` (both kinds) and",
        "`TrueNASSimulator.generic_methods`.",
        "",
        "| release | hand-written | generic stores | answered | ENOTSUP | methods "
        "| answered before generic stores |",
        "|---|---|---|---|---|---|---|",
    ]
    listing = {release: modelled(release) for release in releases}
    for release, (hand, generic, total) in listing.items():
        before = BEFORE_GENERIC.get(release)
        earlier = f"{before[0]} of {before[1]}" if before else "-"
        answered = len(hand) + len(generic)
        lines.append(f"| {release} | {len(hand)} | {len(generic)} | {answered} "
                     f"| {total - answered} | {total} | {earlier} |")
    for release, (hand, generic, _) in listing.items():
        lines += ["", f"## {release}", "", "Hand-written models:", "", "```text", *hand, "```",
                  "", "Generic stores:", "", "```text", *generic, "```"]
    return "\n".join(lines) + "\n\n" + SOURCES + "\n" + WIRE_SOURCES


def main(argv: list[str] | None = None) -> int:
    """Write ``MODELLED.md`` next to this module (``--check``: only compare).

    Args:
        argv: Command-line arguments.

    Returns:
        0 when written or up to date, 1 when ``--check`` found it stale.
    """
    text = render()
    if argv and "--check" in argv:
        return 0 if MODELLED_PATH.read_text() == text else 1
    MODELLED_PATH.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
