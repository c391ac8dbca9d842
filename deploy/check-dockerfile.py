#!/usr/bin/env python3
"""Checks deploy/Dockerfile offline (ctest deploy_dockerfile); no container
runtime is needed.

  deploy/check-dockerfile.py BINARY [DOCKERFILE]
  (SOPILOT_DOCKERFILE_CHECK_BINARY, when set, replaces BINARY)

1. The runtime stage (the last one) installs every library BINARY needs:
   each library `readelf -d` lists as NEEDED comes from a Debian package
   (`dpkg -S` on the path `ldd` resolves) that the stage's `apt-get install`
   names, and every other library `ldd` resolves comes from one of those
   packages or their dependencies (Depends/Pre-Depends, as installed here).
2. Its version label is the project's version (CMakeLists.txt) and the
   binary's (`BINARY --version`).
3. Every COPY source exists: in the build context (the repository, less
   .dockerignore) or, for COPY --from=STAGE, made by a RUN of that stage.
4. Both stages are Debian 12; the runtime stage has a non-root USER, a
   HEALTHCHECK, and its ENTRYPOINT and SOPILOT_MODELS_DIR are what it copies.

Exit 0: passed; 1: failed (each problem named); 77: skipped (not a Debian 12
host, or no dpkg/ldd/readelf: the package mapping needs Debian 12's
packages).
"""
import fnmatch
import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
problems = []


def fail(msg):
    problems.append(msg)


def skip(why):
    print(f"check-dockerfile: SKIPPED: {why}")
    sys.exit(77)


def run(*cmd):
    return subprocess.run(cmd, check=False, capture_output=True, text=True)


def parse_dockerfile(path):
    """[(stage_name, base, [(instruction, args_text)])], continuation lines joined."""
    lines, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (line.strip().startswith("#") or not line.strip()):
                continue
            if cur and line.strip().startswith("#"):
                continue  # a comment inside a continued instruction
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            lines.append(cur + line)
            cur = ""
    stages = []
    for line in lines:
        instr, _, rest = line.strip().partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            words = rest.split()
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else str(len(stages))
            stages.append((name, words[0], []))
        elif stages:
            stages[-1][2].append((instr, rest.strip()))
    return stages


def apt_packages(stage):
    pkgs = []
    for instr, args in stage[2]:
        if instr != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", args):
            words = shlex.split(cmd)
            if "apt-get" in words and "install" in words:
                after = words[words.index("install") + 1:]
                pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


def packages_of(paths):
    """{path: Debian package owning it}, in one dpkg-query call; each path is
    also tried in its other merged-/usr spelling and as its real path."""
    cands = {}
    for path in paths:
        for c in (path, os.path.realpath(path)):
            cands.setdefault(c, path)
            cands.setdefault(c[4:] if c.startswith("/usr/") else "/usr" + c, path)
    r = run("dpkg-query", "-S", *cands)  # exits 1 when some spelling matches nothing
    owner = {}
    for line in r.stdout.splitlines():
        pkgs, _, file = line.partition(": ")
        if file in cands and "," not in pkgs:
            owner.setdefault(cands[file], pkgs.split(":")[0].strip())
    return owner


def installed_packages():
    """{package: [dependency names]} of every installed package (Depends and
    Pre-Depends, every alternative), from dpkg's status file."""
    out = run("dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\n").stdout
    deps = {}
    for line in out.splitlines():
        name, status, dep = (line.split("\t") + ["", ""])[:3]
        if not status.endswith(" installed"):
            continue
        names = []
        for clause in dep.split(","):
            for alt in clause.split("|"):
                n = alt.strip().split(" ")[0].split(":")[0]
                if n:
                    names.append(n)
        deps[name] = names
    return deps


def dependency_closure(roots, deps):
    """Packages reachable from ROOTS through Depends/Pre-Depends, as installed
    here (an alternative counts when it is installed)."""
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in seen or p not in deps:
            continue
        seen.add(p)
        todo += deps[p]
    return seen


def dockerignored(rel, patterns):
    for pat in patterns:
        pat = pat.rstrip("/")
        if pat.startswith("**/"):
            if any(fnmatch.fnmatch(part, pat[3:]) for part in rel.split("/")):
                return True
        elif fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel.split("/")[0], pat):
            return True
    return False


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.environ.get("SOPILOT_DOCKERFILE_CHECK_BINARY") or sys.argv[1]
    dockerfile = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "Dockerfile")
    for tool in ("dpkg-query", "ldd", "readelf"):
        if run("sh", "-c", f"command -v {tool}").returncode != 0:
            skip(f"{tool} not found")
    try:
        debian = open("/etc/debian_version").read().strip()
    except OSError:
        debian = ""
    if not debian.startswith("12"):
        skip(f"the host is not Debian 12 (/etc/debian_version: {debian or 'absent'}); "
             "its packages would not be the image's")
    if not os.path.isfile(binary):
        print(f"check-dockerfile: {binary} does not exist (build the sopilot target)", file=sys.stderr)
        return 1

    stages = parse_dockerfile(dockerfile)
    if len(stages) < 2:
        fail(f"expected a multi-stage Dockerfile, found {len(stages)} stage(s)")
        report()
    runtime = stages[-1]
    by_name = {s[0]: s for s in stages}
    for name, base, _ in stages:
        if not re.fullmatch(r"debian:(12|bookworm)(-slim)?(@sha256:[0-9a-f]+)?", base):
            fail(f"stage {name} is FROM {base}, not Debian 12")

    # 1. Libraries -> packages.
    installed = apt_packages(runtime)
    if not installed:
        fail("the runtime stage has no apt-get install")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run("readelf", "-d", binary).stdout)
    ldd = run("ldd", binary)
    resolved = {}
    for line in ldd.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if m:
            if m.group(2) == "not":
                fail(f"ldd: {m.group(1)} not found on this host")
            else:
                resolved[m.group(1)] = m.group(2)
        m = re.match(r"\s*(/\S+ld-linux\S*)\s+\(", line)
        if m:
            resolved[os.path.basename(m.group(1))] = m.group(1)
    if not needed or not resolved:
        fail(f"could not read {binary}'s libraries (readelf: {len(needed)}, ldd: {len(resolved)})")
    closure = dependency_closure(installed, installed_packages())
    owners = packages_of(resolved.values())
    for lib, path in sorted(resolved.items()):
        pkg = owners.get(path)
        if pkg is None:
            fail(f"{lib} ({path}) belongs to no Debian package: the image cannot install it")
            continue
        if lib in needed:
            if pkg not in installed:
                fail(f"{binary} needs {lib} ({path}, package {pkg}): "
                     f"add {pkg} to the runtime stage's apt-get install")
        elif pkg not in closure:
            fail(f"{lib} ({path}, package {pkg}) is needed indirectly but {pkg} is not a dependency "
                 "of the runtime stage's packages")
    for lib in needed:
        if lib not in resolved:
            fail(f"ldd did not resolve {lib}")
    if not problems:
        print(f"check-dockerfile: {len(needed)} direct and {len(resolved) - len(needed)} indirect libraries, "
              f"all from the runtime stage's {len(installed)} packages and their dependencies")

    # 2. Version.
    cmake = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    m = re.search(r"project\(\s*sopilot\s+VERSION\s+([0-9.]+)", cmake)
    project_version = m.group(1) if m else None
    args = {}
    for stage in stages:
        for instr, a in stage[2]:
            if instr == "ARG" and "=" in a:
                k, v = a.split("=", 1)
                args[k.strip()] = v.strip().strip('"')
    labels = " ".join(a for i, a in runtime[2] if i == "LABEL")
    m = re.search(r'org\.opencontainers\.image\.version="?\$\{?(\w+)\}?"?', labels)
    if not m:
        fail("the runtime stage has no org.opencontainers.image.version label from an ARG")
    else:
        label_version = args.get(m.group(1))
        if label_version != project_version:
            fail(f"the version label is {label_version}, CMakeLists.txt says {project_version}")
        binary_version = run(binary, "--version").stdout.strip()
        if binary_version != label_version:
            fail(f"the version label is {label_version}, {binary} --version says {binary_version}")

    # 3. COPY sources.
    ignore = []
    if os.path.exists(os.path.join(ROOT, ".dockerignore")):
        ignore = [l.strip() for l in open(os.path.join(ROOT, ".dockerignore"))
                  if l.strip() and not l.startswith("#")]
    copies = 0
    for name, _, instrs in stages:
        for instr, a in instrs:
            if instr not in ("COPY", "ADD"):
                continue
            words = shlex.split(a)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            srcs = paths[:-1]
            src_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
            for src in srcs:
                copies += 1
                if src_stage is None:
                    rel = src.rstrip("/")
                    if not os.path.exists(os.path.join(ROOT, rel)):
                        fail(f"COPY {src}: no such path in the build context ({ROOT})")
                    elif dockerignored(rel, ignore):
                        fail(f"COPY {src}: excluded by .dockerignore")
                else:
                    st = by_name.get(src_stage)
                    if st is None:
                        fail(f"COPY --from={src_stage}: no such stage")
                        continue
                    workdir = next((a2 for i2, a2 in reversed(st[2]) if i2 == "WORKDIR"), "/")
                    runs = " ".join(a2 for i2, a2 in st[2] if i2 == "RUN")
                    p = src.rstrip("/")
                    rel = os.path.relpath(p, workdir) if p.startswith(workdir.rstrip("/") + "/") else p
                    if p not in runs and rel not in runs:
                        fail(f"COPY --from={src_stage} {src}: no RUN of stage {src_stage} makes it")

    # 4. The runtime stage's user, health check, entry point, models.
    users = [a for i, a in runtime[2] if i == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        fail("the runtime stage must end with a non-root USER")
    if not any(i == "HEALTHCHECK" for i, _ in runtime[2]):
        fail("the runtime stage has no HEALTHCHECK")
    dests = [shlex.split(a)[-1] for i, a in runtime[2] if i == "COPY"]
    entry = next((a for i, a in reversed(runtime[2]) if i == "ENTRYPOINT"), "")
    m = re.search(r'"(/[^"]+)"', entry)
    if not m or m.group(1) not in dests:
        fail(f"ENTRYPOINT {entry} is not a file the runtime stage copies ({dests})")
    env = " ".join(a for i, a in runtime[2] if i == "ENV")
    m = re.search(r"SOPILOT_MODELS_DIR=(\S+)", env)
    if not m or not any(d.rstrip("/") == m.group(1).rstrip("/") for d in dests):
        fail("SOPILOT_MODELS_DIR must name the models directory the runtime stage copies")
    report(copies)


def report(copies=0):
    if problems:
        for p in problems:
            print(f"check-dockerfile: {p}", file=sys.stderr)
        print(f"check-dockerfile: FAILED ({len(problems)} problems)", file=sys.stderr)
        sys.exit(1)
    print(f"check-dockerfile: OK ({copies} COPY sources)")
    sys.exit(0)


if __name__ == "__main__":
    sys.exit(main())
