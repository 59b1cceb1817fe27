"""What `atoll policy check` says about a system's policy: a text report and a graph.

`print_report` prints, on stdout, the policy's summary (or that there is none), the
calls each component can make (its capabilities, then the policy's verdict on each
operation), whom each component can reach directly or through the servers it calls,
and the rules that decide nothing; it returns those unused rules, which decide the
exit status under `--strict`. `dot` is the same reachability as a Graphviz digraph.
Both only read a `SystemPolicy`'s answers; neither opens a file (the command line
does, once the system is known good).
"""

from __future__ import annotations

from kernel import IpcKind


def print_report(system, report, edges) -> list:
    """Print the report of `system` (`report` is its `SystemPolicy`, `edges` the
    reachability it found); the unused rules, as (name, why) pairs."""
    policy = system.policy
    if policy is None:
        print(f"{system.name}: no policy: the monitor is off and every request is delivered")
    else:
        print(f"{system.name}: policy {policy.path.name} ({policy.mode}, audit {policy.audit}), "
              f"{len(policy.rules)} rule{'s' if len(policy.rules) != 1 else ''}, default deny")
    print("\ncalls each component can make (its capabilities, then the policy):")
    width = max((len(f"{e.source} -> {e.destination}") for e in edges), default=0)
    for e in edges:
        pair = f"{e.source} -> {e.destination}".ljust(width)
        if e.kind is IpcKind.NOTIFY:
            print(f"  {pair}  notify ({e.endpoint})")
            continue
        allowed = ", ".join(e.allowed) or "nothing"
        denied = f"; denied: {', '.join(e.denied)}" if e.denied else ""
        print(f"  {pair}  {allowed}{denied}  [endpoint {e.endpoint}]")
    print("\nwhom each component can reach, directly or through the servers it calls:")
    for name, reached in report.reach().items():
        print(f"  {name}: {', '.join(reached) if reached else 'nobody'}")
    unused = report.unused_rules()
    print("\nunused rules:" + ("" if unused else " none"))
    for name, why in unused:
        print(f"  {name!r}: {why}")
    return unused


def dot(name: str, edges) -> str:
    """The reachability `edges` of system `name` as a Graphviz digraph (dot -Tsvg)."""
    lines = [f'digraph "{name}" {{', "  rankdir=LR;", "  node [shape=box];"]
    for e in edges:
        if e.kind is IpcKind.NOTIFY:
            lines.append(f'  "{e.source}" -> "{e.destination}" [style=dashed, label="notify"];')
        elif e.allowed:
            label = "\\n".join(e.allowed)
            lines.append(f'  "{e.source}" -> "{e.destination}" [label="{label}"];')
        else:
            lines.append(f'  "{e.source}" -> "{e.destination}" [color=gray, style=dotted, label="denied"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
