"""``op=details`` of every node kind and ``machine get_curtin_config``.

``details`` follows maasserver/api/nodes.py ``NodeHandler.details``: a BSON document
``{"lshw": ..., "lldp": ...}`` whose values are the passed commissioning outputs, null
for a node that never commissioned (a New machine, a device). ``get_curtin_config``
follows maasserver/api/machines.py: 400 "Machine <hostname> is not in a deployment
state." outside Deploying/Deployed/Failed deployment, else the merged curtin config as
YAML (``yaml.safe_dump(..., default_flow_style=False)``) in ``text/plain``.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from maas_dyn.sim.maas.bson import encode_document
from maas_dyn.sim.maas.handlers._common import can_view, machine_for
from maas_dyn.sim.maas.models import Controller, Machine
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import BadRequest, NotFound, Response
from maas_dyn.sim.maas.status import Status

BSON_TYPE = "application/bson"
_CURTIN_STATES = frozenset({Status.DEPLOYING, Status.DEPLOYED, Status.FAILED_DEPLOYMENT})
_INSTALL_LOG = "/tmp/install.log"  # noqa: S108 - a path on the deployed machine
_CURTIN_LOGS = "/tmp/curtin-logs.tar"  # noqa: S108 - a path on the deployed machine
_LLDP = b'<?xml version="1.0" encoding="UTF-8"?>\n<lldp label="LLDP neighbors"/>\n'


def _lshw(hostname: str, cpu_count: int, memory_mib: int) -> bytes:
    # The shape of `lshw -xml`: a system node holding memory and CPU nodes.
    cpus = "".join(
        f'<node id="cpu:{n}" class="processor"><product>QEMU Virtual CPU</product></node>'
        for n in range(cpu_count)
    )
    return (
        '<?xml version="1.0" standalone="yes" ?>\n<list>\n'
        f'<node id="{escape(hostname)}" class="system"><product>Standard PC</product>'
        '<node id="core" class="bus">'
        f'<node id="memory" class="memory"><size units="bytes">{memory_mib * 2**20}</size></node>'
        f"{cpus}</node></node>\n</list>\n"
    ).encode()


def _bson_response(lshw: bytes | None, lldp: bytes | None) -> Response:
    return Response(200, encode_document({"lshw": lshw, "lldp": lldp}), BSON_TYPE)


@action(("MachineHandler", "NodeHandler", "DeviceHandler"), "details")
def node_details(context: Context) -> Response:
    """Return the lshw and LLDP captures of a node's last commissioning (BSON)."""
    state = context.state
    system_id = context.arg("system_id")
    if system_id in state.controllers:
        return _controller_details(state.controllers[system_id])
    if context.handler == "MachineHandler":
        node: Any = machine_for(context)
    else:
        node = state.node(system_id)
        if not can_view(context, node):
            raise NotFound("Node")
    if not isinstance(node, Machine) or node.status in (Status.NEW, Status.COMMISSIONING):
        return _bson_response(None, None)
    return _bson_response(_lshw(node.hostname, node.cpu_count, node.memory), _LLDP)


def _controller_details(controller: Controller) -> Response:
    return _bson_response(_lshw(controller.hostname, 4, 8192), _LLDP)


@action(("RackControllerHandler", "RegionControllerHandler"), "details")
def controller_details(context: Context) -> Response:
    """Return a controller's lshw and LLDP captures (BSON)."""
    controller = context.state.controllers.get(context.arg("system_id"))
    if controller is None:
        raise NotFound("Node")
    return _controller_details(controller)


def _yaml(value: Any, indent: int = 0) -> str:
    # Block style like yaml.safe_dump(default_flow_style=False) for the plain data of a
    # curtin config; the simulator has no YAML dependency. Keys sorted as safe_dump does.
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key in sorted(value):
            item = value[key]
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n{_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict) and item:
                body = _yaml(item, indent + 2)
                lines.append(f"{pad}- {body[indent + 2:]}")
            else:
                lines.append(f"{pad}- {_scalar(item)}\n")
        return "".join(lines)
    return f"{pad}{_scalar(value)}\n"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    text = str(value)
    plain = text and text[0].isalnum() and all(c.isalnum() or c in "-_./" for c in text)
    return text if plain else "'" + text.replace("'", "''") + "'"


@action("MachineHandler", "get_curtin_config")
def get_curtin_config(context: Context) -> Response:
    """Return the curtin configuration of a deploying or deployed machine (YAML text)."""
    machine = machine_for(context)
    if machine.status not in _CURTIN_STATES:
        raise BadRequest(f"Machine {machine.hostname} is not in a deployment state.")
    url = context.state.api_prefix.split("/api/")[0]
    disks = [
        {"id": d.name, "name": d.name, "type": "disk", "ptable": "gpt",
         "serial": d.serial or d.name, "grub_device": d.id == machine.boot_disk_id}
        for d in machine.blockdevices if d.type == "physical"
    ]
    config = {
        # Paths on the machine being installed, as MAAS's curtin_userdata templates set.
        "install": {"log_file": _INSTALL_LOG, "error_tarfile": _CURTIN_LOGS,
                    "post_files": [_INSTALL_LOG, _CURTIN_LOGS]},
        "kernel": {"package": f"linux-{machine.hwe_kernel or 'generic'}"},
        "power_state": {"mode": "reboot"},
        "reporting": {"maas": {"level": "INFO", "type": "webhook",
                               "endpoint": f"{url}/metadata/status/{machine.system_id}"}},
        "storage": {"version": 1, "config": disks},
        "verbosity": 3,
    }
    return Response(200, _yaml(config).encode(), "text/plain")
