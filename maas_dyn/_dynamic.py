"""The shared dynamic engine: operation specs become real methods on real classes.

A dialect (MAAS, TrueNAS) turns its server's description into :class:`Operation`
objects grouped by namespace, and asks :func:`build_namespace_class` for a class made
with ``type()``. Each operation becomes a plain function on that class with a real
``__name__``, ``__qualname__``, ``__signature__`` and ``__doc__``, so ``help()``,
``inspect.signature``, IPython, Jupyter and jedi see ordinary methods.

Reading a description must stay cheap (a MAAS 3.7 document has ~380 actions and a
TrueNAS one ~800 methods), so the details of an operation (parameters, docstring) are
computed on first use: signatures through :class:`_LazySignature`, docstrings through
:class:`LazyDocstring`, both backed by :meth:`Operation.details`.

Calls land in one place: the namespace's ``_invoke`` callable, given the operation and
the arguments bound by :func:`bind_arguments`. That is each dialect's funnel.
"""

from __future__ import annotations

import inspect
import keyword
import textwrap
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from maas_dyn.errors import InvalidParametersError, UnknownActionError, UnknownNameError

__all__ = [
    "BoundArguments",
    "LazyDocstring",
    "Namespace",
    "Operation",
    "OperationDetails",
    "Param",
    "bind_arguments",
    "build_namespace_class",
    "closest",
    "lazy_namespace",
    "python_identifier",
    "render_docstring",
    "unknown_name",
]

POSITIONAL = "positional"
KEYWORD = "keyword"

# THE NAMING RULE (both dialects; docs/naming.md). Names that start with "_" belong to
# maas_dyn: the clients, the async clients and the generated classes keep their own
# state there (``_invoke``, ``_spec``, ``_conn``, ``_closing``, ``__init__``...). A
# server name that would start with "_" gets this prefix, so no description can
# replace what the library uses itself; a name that clashes with a public attribute
# of the client (``call``, ``close``) or a keyword gets a trailing "_". Renamed
# methods stay reachable by their server name: ``client.call(...)``, ``client[...]``.
PRIVATE_PREFIX = "x"


def python_identifier(name: str, taken: Collection[str] = ()) -> str:
    """Turn a server-side name into a valid, non-clashing Python identifier.

    The one naming rule of both dialects, in order:

    1. Characters that cannot be in an identifier (dashes, dots, spaces, NUL...)
       become ``_``.
    2. A name starting with ``_`` gets the prefix ``x`` (:data:`PRIVATE_PREFIX`):
       ``_conn`` -> ``x_conn``, ``__init__`` -> ``x__init__``. Underscore names are
       maas_dyn's own, so no server name can shadow them.
    3. A name starting with a digit gets a leading ``_`` (``2fa`` -> ``_2fa``; no
       attribute of maas_dyn is spelled ``_<digit>...``).
    4. Python keywords and names in ``taken`` (the client's public attributes,
       siblings) get a trailing ``_`` until free (``import`` -> ``import_``), as PEP 8
       suggests.

    Args:
        name: The name as the server spells it.
        taken: Names that must not be produced (e.g. attributes of the client).

    Returns:
        A string for which ``str.isidentifier()`` is true.
    """
    if name.isidentifier() and not keyword.iskeyword(name) and name not in taken \
            and not name.startswith("_"):
        return name  # the common case, kept cheap: it runs for every name at connect
    # isalnum() is not enough: "¼" and "²" are alphanumeric but cannot be in an identifier.
    out = "".join(ch if ("_" + ch).isidentifier() else "_" for ch in name)
    if out.startswith("_"):
        out = PRIVATE_PREFIX + out
    out = out or "_"  # an empty name: "_" is no attribute of maas_dyn
    if not out.isidentifier():  # a leading digit (or other continue-only character)
        out = "_" + out
    blocked = set(taken)
    while keyword.iskeyword(out) or out in blocked:
        out += "_"
    return out


def closest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Return the valid names closest to a mistyped one, best first.

    Args:
        name: What the user typed.
        candidates: The valid names.
        limit: How many suggestions at most.

    Returns:
        Up to ``limit`` names.
    """
    import difflib  # only needed when a name is wrong

    pool = list(candidates)
    found = difflib.get_close_matches(name, pool, n=limit, cutoff=0.6)
    prefixed = [c for c in sorted(pool) if c.startswith(name) and c not in found]
    return (found + prefixed)[:limit]


class Param(NamedTuple):
    """One parameter of an operation.

    Attributes:
        name: The Python identifier used in the signature.
        wire_name: The name the server expects.
        kind: ``"positional"`` (may also be passed by keyword) or ``"keyword"``.
        type_text: The type as the server documents it (``String``, ``integer``...).
        annotation: The Python annotation shown in the signature.
        description: Prose from the server's documentation.
        required: Whether the server documents the parameter as required.
        default: Default shown in the signature for optional parameters.
    """

    name: str
    wire_name: str
    kind: str = KEYWORD
    type_text: str = ""
    annotation: Any = Any
    description: str = ""
    required: bool = False
    default: Any = None


class OperationDetails(NamedTuple):
    """Everything about an operation that is computed lazily.

    Attributes:
        summary: One-line summary.
        body: Prose after the summary.
        params: Parameters, positional ones first.
        accepts_extra: Whether undocumented keyword arguments are passed through.
        returns: Text of the ``Returns:`` section.
        raises: ``(exception name, when)`` pairs for the ``Raises:`` section.
        notes: Extra sections as ``(title, text)``, e.g. the HTTP request line.
    """

    summary: str
    body: str = ""
    params: tuple[Param, ...] = ()
    accepts_extra: bool = False
    returns: str = ""
    raises: tuple[tuple[str, str], ...] = ()
    notes: tuple[tuple[str, str], ...] = ()


class Operation:
    """A named operation whose details are computed once, on first use.

    Kept small on purpose: a client holds one per action of the server. A dialect
    either passes ``describe`` or subclasses and overrides :meth:`describe` (which
    saves a closure per operation).

    Args:
        name: Python identifier of the method.
        wire_name: The server's name for it.
        describe: Builds the :class:`OperationDetails` when first needed.
        payload: Dialect data the funnel needs to perform the call.
    """

    __slots__ = ("_describe", "_details", "name", "payload", "wire_name")

    def __init__(
        self,
        name: str,
        wire_name: str,
        describe: Callable[[], OperationDetails] | None = None,
        payload: Any = None,
    ):
        self.name = name
        self.wire_name = wire_name
        self.payload = payload
        self._describe = describe
        self._details: OperationDetails | None = None

    def describe(self) -> OperationDetails:
        """Compute the details (called once, by :attr:`details`)."""
        if self._describe is None:
            raise NotImplementedError("pass describe= or override Operation.describe")
        return self._describe()

    @property
    def details(self) -> OperationDetails:
        """The operation's parameters and documentation (computed once).

        Two threads asking at once may both compute it; the results are equal, so no
        lock is held per operation.
        """
        if self._details is None:
            self._details = self.describe()
        return self._details

    def docstring(self) -> str:
        """Render the Google-style docstring of this operation."""
        return render_docstring(self.details)

    def signature(self, with_self: bool = False) -> inspect.Signature:
        """Build the ``inspect.Signature`` of this operation.

        Args:
            with_self: Include a leading ``self`` (the signature of the function on
                the class, as opposed to the bound method).

        Returns:
            The signature.
        """
        return _signature(self.details, with_self)

    def __repr__(self) -> str:
        return f"<Operation {self.wire_name}>"


def _format_param(param: Param) -> str:
    type_text = param.type_text or getattr(param.annotation, "__name__", "") or "Any"
    flags = "" if param.required or param.kind == POSITIONAL else ", optional"
    head = f"{param.name} ({type_text}{flags})"
    text = " ".join(param.description.split()) or "Not documented by the server."
    if param.required and param.kind != POSITIONAL and "required" not in text.lower():
        text = "Required. " + text
    if param.wire_name != param.name:
        text += f" Sent as ``{param.wire_name}``."
    lines = textwrap.wrap(f"{head}: {text}", width=84, subsequent_indent="    ")
    return "\n".join("    " + line for line in lines)


def render_docstring(details: OperationDetails) -> str:
    """Render operation details as a Google-style docstring.

    Args:
        details: What to render.

    Returns:
        The docstring text.
    """
    parts = [details.summary.strip() or "Undocumented operation."]
    if details.body.strip():
        parts.append(details.body.strip())
    parts.extend(f"{title}:\n    {text}" for title, text in details.notes)
    if details.params or details.accepts_extra:
        lines = [_format_param(p) for p in details.params]
        if details.accepts_extra:
            lines.append(
                "    **kwargs: Parameters the server does not document are sent as given"
                " (with a warning)."
            )
        parts.append("Args:\n" + "\n".join(lines))
    if details.returns:
        parts.append("Returns:\n" + textwrap.indent(details.returns.strip(), "    "))
    if details.raises:
        parts.append(
            "Raises:\n" + "\n".join(f"    {name}: {when}" for name, when in details.raises)
        )
    return "\n\n".join(parts) + "\n"


class LazyDocstring(str):
    """A ``str`` whose text is produced on first use.

    ``help()``, ``inspect.getdoc`` and IPython read ``__doc__`` through ordinary string
    operations; every such operation is forwarded to the rendered text, so rendering
    hundreds of docstrings is paid only for those someone reads.

    Args:
        render: Produces the text.
    """

    _render: Callable[[], str]
    _text: str | None

    def __new__(cls, render: Callable[[], str]) -> LazyDocstring:
        self = super().__new__(cls, "")
        self._render = render
        self._text = None
        return self

    def text(self) -> str:
        """Return the rendered text (rendered once)."""
        if self._text is None:
            self._text = self._render()
        return self._text

    def __getattribute__(self, name: str) -> Any:
        # Ordinary str methods (split, expandtabs, strip...) are looked up on the
        # instance, so forward them to the real text; our own attributes stay local.
        if name in _LAZY_OWN or name.startswith("__"):
            return object.__getattribute__(self, name)
        return getattr(object.__getattribute__(self, "text")(), name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (str, (self.text(),))


_LAZY_OWN = frozenset({"_render", "_text", "text"})


def _forward(name: str) -> Callable[..., Any]:
    def method(self: LazyDocstring, *args: Any) -> Any:
        # The str buffer of another lazy docstring is empty: compare with its text.
        plain = [arg.text() if isinstance(arg, LazyDocstring) else arg for arg in args]
        return getattr(self.text(), name)(*plain)

    method.__name__ = name
    return method


# Operators and protocol methods are looked up on the type, not the instance, so
# each one the str type implements is forwarded explicitly.
for _name in (
    "__str__", "__repr__", "__len__", "__iter__", "__contains__", "__getitem__",
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__",
    "__add__", "__radd__", "__mul__", "__rmul__", "__mod__", "__format__",
):
    setattr(LazyDocstring, _name, _forward(_name))
del _name


class _LazySignature(inspect.Signature):
    """The ``inspect.Signature`` of a generated method, computed on first use."""

    __slots__ = ("_operation", "_real")

    def __init__(self, operation: Operation):
        # The base initialiser is skipped on purpose: it would build the parameters now.
        self._operation = operation
        self._real: inspect.Signature | None = None

    def _resolve(self) -> inspect.Signature:
        if self._real is None:
            self._real = self._operation.signature(with_self=True)
        return self._real

    @property
    def _parameters(self) -> Mapping[str, inspect.Parameter]:
        return self._resolve().parameters

    @property
    def _return_annotation(self) -> Any:
        return self._resolve().return_annotation

    def replace(self, **changes: Any) -> inspect.Signature:  # type: ignore[override]
        """Return a plain signature with the given changes (used for bound methods)."""
        return self._resolve().replace(**changes)


_PARAMETER_KINDS = {
    POSITIONAL: inspect.Parameter.POSITIONAL_OR_KEYWORD,
    KEYWORD: inspect.Parameter.KEYWORD_ONLY,
}


def _signature(details: OperationDetails, with_self: bool) -> inspect.Signature:
    params: list[inspect.Parameter] = []
    if with_self:
        params.append(inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY))
    for p in details.params:
        kind = _PARAMETER_KINDS[p.kind]
        default = inspect.Parameter.empty if p.kind == POSITIONAL and p.required else p.default
        annotation = p.annotation
        if default is None and annotation is not Any:
            annotation = annotation | None
        params.append(inspect.Parameter(p.name, kind, default=default, annotation=annotation))
    if details.accepts_extra:
        params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation=Any))
    return inspect.Signature(params, return_annotation=Any)


class BoundArguments(NamedTuple):
    """Arguments of one call, keyed by the server's names.

    Attributes:
        positional: Values of positional parameters, in order, by wire name.
        keywords: Values of documented keyword parameters, by wire name.
        extra: Keyword arguments the description does not document.
    """

    positional: dict[str, Any]
    keywords: dict[str, Any]
    extra: dict[str, Any]


def bind_arguments(
    operation: Operation,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    reserved: Iterable[str] = (),
) -> BoundArguments:
    """Bind a call's arguments to an operation's parameters.

    Python names are mapped back to wire names. Keyword arguments with the value
    ``None`` are treated as not given, so optional parameters can be passed through
    from variables. Names listed in ``reserved`` are left to the dialect (for example
    the ``params=``/``files=`` forms of the maas-api call style) unless the server
    documents a parameter of that name, in which case the documented meaning wins.

    Args:
        operation: The operation being called.
        args: Positional arguments.
        kwargs: Keyword arguments.
        reserved: Extra keyword names the dialect handles itself.

    Returns:
        The bound arguments.

    Raises:
        InvalidParametersError: Too many positional arguments, a positional parameter
            given twice or missing, or an unknown keyword for an operation that accepts
            none. Every problem is listed at once.
    """
    details = operation.details
    positional = [p for p in details.params if p.kind == POSITIONAL]
    by_name = {p.name: p for p in details.params}
    given: dict[str, Any] = {}
    keywords: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if len(args) > len(positional):
        errors["*args"] = [
            f"{operation.name}() takes {len(positional)} positional argument(s)"
            f" ({', '.join(p.name for p in positional) or 'none'}) but {len(args)} were given"
        ]
    for param, value in zip(positional, args, strict=False):
        given[param.wire_name] = value
    reserved_names = set(reserved)
    for name, value in kwargs.items():
        found = by_name.get(name)
        if found is None and name in reserved_names:
            extra[name] = value
        elif found is None:
            if details.accepts_extra:
                if value is not None:
                    extra[name] = value
            else:
                hint = closest(name, by_name)
                errors[name] = [
                    "unexpected keyword argument"
                    + (f"; did you mean {', '.join(hint)}?" if hint else "")
                ]
        elif found.kind == POSITIONAL:
            if found.wire_name in given:
                errors[name] = ["given both positionally and by keyword"]
            else:
                given[found.wire_name] = value
        elif value is not None:
            keywords[found.wire_name] = value
    for param in positional:
        if param.required and param.wire_name not in given:
            errors.setdefault(param.name, []).append("missing required argument")
    if errors:
        detail = "; ".join(f"{key}: {', '.join(msgs)}" for key, msgs in errors.items())
        raise InvalidParametersError(
            f"invalid arguments for {operation.wire_name}: {detail}", errors=errors
        )
    ordered = {p.wire_name: given[p.wire_name] for p in positional if p.wire_name in given}
    return BoundArguments(ordered, keywords, extra)


def unknown_name(
    error: type[UnknownNameError], what: str, name: str, options: Iterable[str]
) -> UnknownNameError:
    """Build the error for a name that does not exist, with the closest valid names.

    Args:
        error: The error class to build.
        what: Where the name was looked for, e.g. ``"handler 'machine'"``.
        name: The name asked for.
        options: The valid names.

    Returns:
        The error, ready to raise.
    """
    hint = closest(name, options)
    suffix = f"; did you mean {', '.join(hint)}?" if hint else ""
    return error(f"{what} has no {name!r}{suffix}", name=name, suggestions=hint)


class Namespace:
    """Base of every generated namespace class (a MAAS handler, a TrueNAS service).

    Operations are methods of the generated subclass; child namespaces are plain
    instance attributes. Nothing here does network I/O, so completion and ``help()``
    are safe to use on a client whose server is unreachable.

    Args:
        invoke: The dialect's funnel: called with the operation, the positional and the
            keyword arguments of each call.
        path: Dotted name of this namespace, used in messages.
    """

    _operations: Mapping[str, Operation] = {}
    _kind = "namespace"

    def __init__(self, invoke: Callable[[Operation, tuple[Any, ...], dict[str, Any]], Any],
                 path: str):
        self._invoke = invoke
        self._path = path

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup failed: explain and suggest, never fetch.
        if name.startswith("__"):
            raise AttributeError(name)
        options = [n for n in dir(self) if not n.startswith("_")]
        raise unknown_name(UnknownActionError, f"{self._kind} {self._path!r}", name, options)

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._operations))
        return f"<{self._kind} {self._path}: {names}>"


def _make_method(operation: Operation, owner_qualname: str,
                 asynchronous: bool = False) -> Callable[..., Any]:
    def plain(self: Namespace, /, *args: Any, **kwargs: Any) -> Any:
        return self._invoke(operation, args, kwargs)

    async def coroutine(self: Namespace, /, *args: Any, **kwargs: Any) -> Any:
        return await self._invoke(operation, args, kwargs)

    method: Callable[..., Any] = coroutine if asynchronous else plain
    method.__name__ = operation.name
    method.__qualname__ = f"{owner_qualname}.{operation.name}"
    method.__doc__ = LazyDocstring(operation.docstring)
    method.__signature__ = _LazySignature(operation)  # type: ignore[attr-defined]
    method.operation = operation  # type: ignore[attr-defined]
    return method


def build_namespace_class(
    class_name: str,
    operations: Iterable[Operation],
    doc: Callable[[], str],
    *,
    module: str,
    base: type[Namespace] = Namespace,
    attributes: Mapping[str, Any] | None = None,
    asynchronous: bool = False,
) -> type[Namespace]:
    """Build a namespace class whose methods are the given operations.

    Args:
        class_name: ``__name__`` and ``__qualname__`` of the class.
        operations: Its operations; each name must be a valid identifier.
        doc: Renders the class docstring on first use.
        module: ``__module__`` of the class (so ``help()`` names the dialect).
        base: The base class, a :class:`Namespace` subclass.
        attributes: Extra class attributes (private dialect data).
        asynchronous: Make every method a coroutine function awaiting what the
            funnel returns (the async facade's funnel returns awaitables).

    Returns:
        The new class.
    """
    ops = {op.name: op for op in operations}
    # type() refuses a NUL in the name (ValueError); a server's resource name may hold one.
    class_name = class_name if class_name.isidentifier() else python_identifier(class_name)
    namespace: dict[str, Any] = {
        "__doc__": LazyDocstring(doc),
        "__module__": module,
        "__qualname__": class_name,
        "_operations": ops,
        **(attributes or {}),
    }
    for op in ops.values():
        namespace[op.name] = _make_method(op, class_name, asynchronous)
    return type(class_name, (base,), namespace)


# Materialising is rare (once per namespace); one lock for all keeps it simple.
_MATERIALISE_LOCK = threading.Lock()


class _PendingNamespace(Namespace):
    """A namespace whose real class has not been built yet.

    Any attribute access, ``dir()`` or ``repr()`` builds the class and switches the
    instance to it (``__class__`` assignment), so the object a user holds is the same
    before and after. No network I/O happens: the class comes from the description the
    client already has.
    """

    def __getattribute__(self, name: str) -> Any:
        _materialise(self)
        return object.__getattribute__(self, name)

    def __dir__(self) -> list[str]:
        _materialise(self)
        return dir(self)

    def __repr__(self) -> str:
        _materialise(self)
        return repr(self)


def _materialise(namespace: Namespace) -> None:
    if type(namespace) is not _PendingNamespace:
        return
    with _MATERIALISE_LOCK:
        if type(namespace) is _PendingNamespace:
            state = object.__getattribute__(namespace, "__dict__")
            # Built before the builder is dropped: if building fails, the next access
            # fails the same way instead of with a KeyError on "_build_class".
            built = state["_build_class"]()
            del state["_build_class"]
            object.__setattr__(namespace, "__class__", built)


def lazy_namespace(
    build_class: Callable[[], type[Namespace]],
    invoke: Callable[[Operation, tuple[Any, ...], dict[str, Any]], Any],
    path: str,
) -> Namespace:
    """Return a namespace object whose class is built on first use.

    A client exposes every namespace as a plain attribute at once, but building a
    class per namespace for a whole description costs more than fetching it; this
    defers that cost to the namespaces actually touched.

    Args:
        build_class: Builds the real class (a :class:`Namespace` subclass whose
            ``__init__`` is the base one).
        invoke: The dialect's funnel, as for :class:`Namespace`.
        path: Dotted name of the namespace.

    Returns:
        The namespace object; ``type()`` of it is the real class once it was touched.
    """
    namespace = object.__new__(_PendingNamespace)
    Namespace.__init__(namespace, invoke, path)
    object.__getattribute__(namespace, "__dict__")["_build_class"] = build_class
    return namespace
