#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes docs/API.md from the comments in include/monitor/*.h and *.hpp.

    ci/gen-api-doc.py            rewrite docs/API.md
    ci/gen-api-doc.py --check    exit 1 if docs/API.md is not what the headers say (CI)
    ci/gen-api-doc.py --strict   also exit 1 if a public declaration has no comment above it

The headers are the reference; this script only lays them out. A declaration is documented by the
comment block right above it (no blank line between). Consecutive declarations under one comment
form one entry. `/* ---- Title ---- */` lines start a section. Private parts of classes and the
`detail` namespaces are left out. Nothing here interprets C++ beyond counting braces.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADERS = ROOT / "include" / "monitor"
OUT = ROOT / "docs" / "API.md"
SECTION = re.compile(r"^/\*\s*-{3,}\s*(.*?)\s*-{3,}\s*\*/$")
SKIP_PP = re.compile(r"^#\s*(pragma|include|ifndef|ifdef|if|endif|else|elif|undef|error)\b|^#\s*define\s+MONITOR_\w+_H\b")


def strip_comment(lines):
    """The text of a // or /* */ comment block, as paragraphs."""
    out = []
    for line in lines:
        s = line.strip()
        if s.startswith("//"):
            s = s[2:]
            s = s[1:] if s.startswith(" ") else s
        else:
            s = re.sub(r"^/\*+\s?", "", s)
            s = re.sub(r"\s*\*+/$", "", s)
            s = re.sub(r"^\*(?!/)\s?", "", s)
        if s.strip() in ("clang-format off", "clang-format on"):
            continue  # a formatter switch around a table, not documentation
        if "SPDX-License-Identifier:" in s:
            continue  # the licence tag every file starts with is not documentation
        out.append(s.rstrip())
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out


def code_depth(line):
    code = line.split("//")[0]
    code = re.sub(r"/\*.*?\*/", "", code)
    return code.count("{") - code.count("}")


def drop_private(code_lines):
    """Removes private: sections of classes (depth 1 inside the declaration)."""
    out, depth, hiding = [], 0, False
    for line in code_lines:
        s = line.strip()
        if depth == 1 and s in ("private:", "public:", "protected:"):
            hiding = s == "private:"
            if hiding:
                depth += code_depth(line)
                continue
        new_depth = depth + code_depth(line)
        if hiding and new_depth <= 0:
            hiding = False
        if not hiding:
            out.append(line)
        depth = new_depth
    return out


def names_of(code_lines):
    text = " ".join(l.split("//")[0] for l in code_lines)
    text = re.sub(r"/\*.*?\*/", "", text)
    m = re.match(r"\s*(?:template\s*<[^>]*>\s*)?(class|struct|enum class|enum|union)\s+(?:\[\[[^\]]*\]\]\s*)?"
                 r"(?:MON_API\s+)?(\w+(?:<[^>]*>)?)", text)
    if m:
        return [f"{m.group(1)} {m.group(2)}"]
    names = []
    for define in re.findall(r"#\s*define\s+(\w+)", text):
        names.append(define)
    if names:
        return names
    m = re.search(r"\(\s*\*\s*(\w+)\s*\)", text)
    if text.lstrip().startswith("typedef") and m:
        return [m.group(1)]
    if text.lstrip().startswith("typedef"):
        return [re.findall(r"(\w+)\s*;", text)[-1]]
    m = re.match(r"\s*using\s+(\w+)\s*=", text)
    if m:
        return [m.group(1)]
    for stmt in split_top_level(text):
        stmt = re.sub(r"\[\[[^\]]*\]\]", "", stmt)
        m = re.search(r"(operator\s*\S+?|~?\w+)\s*\(", stmt)
        v = re.search(r"(\w+)\s*=", stmt)
        if m and not (v and v.start() < m.start()):
            names.append(m.group(1) + "()")
        elif v:
            names.append(v.group(1))
    return names or ["(declaration)"]


def split_top_level(text):
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch in "({") - (ch in ")}")
        cur += ch
        if depth == 0 and ch in ";}":
            if cur.strip():
                out.append(cur.strip())
            cur = ""
    if cur.strip():
        out.append(cur.strip())
    return out


def parse(path):
    lines = path.read_text().splitlines()
    intro, entries, i = [], [], 0
    # The file's own comment: everything before the first non-comment line.
    start = i
    while i < len(lines) and (lines[i].strip().startswith(("//", "/*", "*")) or
                              (i > start and lines[i - 1].strip().startswith("/*") and "*/" not in lines[i - 1])):
        if lines[i].strip().startswith("/*"):
            while "*/" not in lines[i]:
                i += 1
        i += 1
    intro = strip_comment(lines[start:i])
    pending = []
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        sec = SECTION.match(s)
        if sec:
            entries.append(("section", sec.group(1), None))
            pending, i = [], i + 1
            continue
        if not s:
            pending, i = [], i + 1
            continue
        if s.startswith("//") or s.startswith("/*"):
            j = i
            if s.startswith("/*"):
                while "*/" not in lines[j]:
                    j += 1
                j += 1
            else:
                while j < len(lines) and lines[j].strip().startswith("//"):
                    j += 1
            text = strip_comment(lines[i:j])
            if text and pending:
                pending.append("")
            pending += text
            i = j
            continue
        if SKIP_PP.match(s) or s in ('extern "C" {', "}") or s.startswith("}  // namespace") or \
                re.match(r"namespace \w+ \{$", s) and "detail" not in s:
            pending, i = [], i + 1
            continue
        if re.match(r"namespace detail \{", s):
            depth = code_depth(line)
            i += 1
            while depth > 0 and i < len(lines):
                depth += code_depth(lines[i])
                i += 1
            pending = []
            continue
        # A declaration, or a run of them: up to a blank line or a comment line at depth 0.
        code, depth = [], 0
        while i < len(lines):
            l = lines[i]
            ls = l.strip()
            if depth == 0 and code and (not ls or ls.startswith(("//", "/*")) or SKIP_PP.match(ls) or
                                        ls.startswith("}  // namespace") or ls == "}"):
                break
            if depth == 0 and code and code[-1].lstrip().startswith("#") and not ls.startswith("#"):
                break
            code.append(l)
            depth += code_depth(l)
            i += 1
        code = drop_private(code)
        while len(code) > 1 and not code[-2].strip():  # the blank line that stood before private:
            del code[-2]
        entries.append(("decl", pending, code))
        pending = []
    return intro, entries


def render():
    # export.h only defines MON_API, the visibility macro: not something a user calls.
    headers = [p for p in sorted(HEADERS.glob("*.h")) + sorted(HEADERS.glob("*.hpp")) if p.name != "export.h"]
    headers.sort(key=lambda p: (p.name != "monitor.h", p.suffix != ".h", p.name))
    out = ["# monitor API reference", "",
           "Generated by `ci/gen-api-doc.py` from the comments in `include/monitor/`; do not edit by hand",
           "(run the script after changing a header; CI checks this file is up to date). The headers are",
           "the reference: what each function does, who owns every descriptor and buffer, and every",
           "result code. The wire format is in [PROTOCOL.md](PROTOCOL.md).", "",
           "| header | what it holds |", "|---|---|"]
    parsed, undocumented = [], []
    for h in headers:
        intro, entries = parse(h)
        parsed.append((h, intro, entries))
        para = " ".join(intro[:intro.index("")] if "" in intro else intro)
        first = re.split(r"(?<=\.)\s", para, maxsplit=1)[0]
        anchor = re.sub(r"[^a-z0-9 -]", "", f"monitor/{h.name}".lower()).replace(" ", "-")
        out.append(f"| [`monitor/{h.name}`](#{anchor}) | {first} |")
    for h, intro, entries in parsed:
        lang = "c" if h.suffix == ".h" else "cpp"
        out += ["", f"## monitor/{h.name}", ""]
        if intro:
            out += intro + [""]
        for kind, doc, code in entries:
            if kind == "section":
                out += [f"### {doc}", ""]
                continue
            names = names_of(code)
            if lang == "cpp":  # every C++ declaration lives in namespace mon
                names = [re.sub(r"^((?:enum class|class|struct|enum|union) )?", r"\1mon::", n) for n in names]
            if not doc:
                undocumented.append(f"{h.name}: {', '.join(names)}")
            out.append("#### " + ", ".join(f"`{n}`" for n in names))
            out += ["", f"```{lang}"] + [l.rstrip() for l in dedent(code)] + ["```", ""]
            if doc:
                out += doc_lines(doc) + [""]
            else:
                out += ["*(undocumented)*", ""]
    while out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n", undocumented


def doc_lines(doc):
    """Comment text to Markdown: lines the header indents (lists of result codes) become list items;
    a line indented deeper than the item above continues it."""
    out, item_indent = [], None
    for line in doc:
        indent = len(line) - len(line.lstrip())
        if indent >= 2 and line.strip():
            if item_indent is not None and indent > item_indent:
                out[-1] += " " + line.strip()
            else:
                out.append("- " + re.sub(r"^(\S+)\s{2,}", r"`\1`: ", line.strip()))
                item_indent = indent
            continue
        if item_indent is not None and line.strip():
            out.append("")  # end the list before the paragraph goes on
        item_indent = None
        out.append(line)
    return out


def dedent(code):
    widths = [len(l) - len(l.lstrip()) for l in code if l.strip()]
    cut = min(widths) if widths else 0
    return [l[cut:] for l in code]


def main(argv):
    text, undocumented = render()
    for u in undocumented:
        print(f"gen-api-doc: undocumented: {u}", file=sys.stderr)
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("gen-api-doc: docs/API.md is out of date: run ci/gen-api-doc.py", file=sys.stderr)
            return 1
        print(f"gen-api-doc: docs/API.md is up to date ({text.count(chr(10) + '#### ')} entries)")
    else:
        OUT.write_text(text)
        print(f"gen-api-doc: wrote {OUT.relative_to(ROOT)} ({text.count(chr(10) + '#### ')} entries)")
    return 1 if "--strict" in argv and undocumented else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
