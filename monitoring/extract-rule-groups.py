#!/usr/bin/env python3
"""Cut the rule groups out of a PrometheusRule manifest into a plain rules file.

    extract-rule-groups.py monitoring/prometheus-rules.yaml OUT.yaml

Prometheus (and promtool) read a rules file whose top level is `groups:`; the
Prometheus Operator wants the same groups under `spec:` of a PrometheusRule.
There is no YAML parser here (standard library only), so the manifest keeps a
simple shape and this script takes it textually: the lines after a top-level
`spec:` line up to the next top-level key, dedented by the indentation of the
first of them. It refuses anything it would not cut cleanly (tabs, a spec that
does not start with `groups:`, a line indented less than the block, a missing
or repeated `spec:`), and prints the alert names it found on stderr.
"""
import re
import sys


def extract(text):
    lines = text.splitlines()
    if any("\t" in line for line in lines):
        raise ValueError("tabs in the manifest")
    starts = [i for i, line in enumerate(lines) if re.fullmatch(r"spec:\s*(#.*)?", line)]
    if len(starts) != 1:
        raise ValueError(f"expected exactly one top-level 'spec:' line, found {len(starts)}")
    block = []
    for line in lines[starts[0] + 1:]:
        if line and not line[0].isspace() and not line.startswith("#"):
            break  # the next top-level key
        block.append(line)
    while block and not block[-1].strip():
        block.pop()
    body = [line for line in block if line.strip() and not line.lstrip().startswith("#")]
    if not body or body[0].strip() != "groups:":
        raise ValueError("the spec block must start with 'groups:'")
    indent = len(body[0]) - len(body[0].lstrip(" "))
    if indent == 0:
        raise ValueError("the spec block is not indented")
    out = []
    for n, line in enumerate(block, starts[0] + 2):
        if not line.strip():
            out.append("")
        elif line[:indent].strip():
            if line.lstrip().startswith("#"):
                out.append(line.lstrip())  # a comment less indented: keep it
            else:
                raise ValueError(f"line {n} is indented less than the spec block")
        else:
            out.append(line[indent:])
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    try:
        rules = extract(text)
    except ValueError as e:
        print(f"extract-rule-groups: {src}: {e}", file=sys.stderr)
        return 1
    with open(dst, "w", encoding="utf-8") as f:
        f.write("# Generated from %s by monitoring/extract-rule-groups.py; do not edit.\n" % src)
        f.write(rules)
    groups = re.findall(r"^  - name:\s*(\S+)", rules, re.M)
    alerts = re.findall(r"^\s*- alert:\s*(\S+)", rules, re.M)
    print(f"extract-rule-groups: {len(groups)} groups, {len(alerts)} alerts -> {dst}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
